// Live preview of the notice form: the page, the feed entry and the email, as the manager types.
// Previews go into sandboxed iframes (no scripts run there); the server sanitises the Markdown.
(function () {
  "use strict";
  const form = document.getElementById("notice-form");
  if (!form) return;
  const frames = {
    page: document.getElementById("preview-page"),
    feed: document.getElementById("preview-feed"),
    email: document.getElementById("preview-email"),
  };
  const errorBox = document.getElementById("preview-error");
  const subject = document.getElementById("preview-subject");
  const repeats = document.getElementById("repeat-summary");
  let timer = null;

  const language = document.getElementById("preview-language");

  async function refresh() {
    const body = new FormData(form);
    if (language) body.append("preview_language", language.value);
    const response = await fetch("/admin/preview", { method: "POST", body: body, credentials: "same-origin" });
    if (!response.ok) return;
    const data = await response.json();
    if (data.error) {
      if (repeats && /^(repeat|recurrence|occurrence)/.test(data.error.field)) repeats.textContent = "";
      errorBox.hidden = false;
      errorBox.textContent = "Preview: " + data.error.field + ": " + data.error.message;
      return;
    }
    errorBox.hidden = true;
    frames.page.srcdoc = data.page;
    frames.feed.srcdoc = data.feed;
    frames.email.srcdoc = data.email;
    subject.textContent = "Subject: " + data.email_subject;
    if (repeats) repeats.textContent = data.repeats || "";
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
  if (language) language.addEventListener("change", refresh);
  refresh();
})();
