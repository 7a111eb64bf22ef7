"""Files attached to notices: images (PNG, JPEG, WebP) and PDFs.

One job per module: `kinds` tells a file's type from its first bytes, `images` cleans an image
of its metadata and makes its thumbnail, `names` makes an uploaded file name safe, `blobstore`
keeps bytes under their SHA-256 (a directory or an S3 bucket), `service` ties them to notices.
"""
