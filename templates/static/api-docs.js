// Starts Swagger UI on /docs. A file rather than an inline script, so /docs keeps the site's
// strict Content-Security-Policy (script-src 'self').
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    // The default asks validator.swagger.io about our schema: nothing leaves the site.
    validatorUrl: null,
  });
});
