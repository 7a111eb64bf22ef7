// The notice form's "Repeats" fieldset: shows the parts that belong to the choice made (days for
// weekly, the day or weekday for monthly, the rule text for advanced). Without this script every
// part shows and the form works the same: the server builds the rule from whichever fields apply.
// The plain-language summary comes with the live preview (admin.js, /admin/preview).
(function () {
  "use strict";
  const fieldset = document.getElementById("repeats");
  if (!fieldset) return;
  const choices = fieldset.querySelectorAll("input[data-repeat-choice]");
  const parts = fieldset.querySelectorAll("[data-repeat-part]");

  function chosen() {
    for (const choice of choices) if (choice.checked) return choice.value;
    return "none";
  }

  function update() {
    const choice = chosen();
    for (const part of parts) {
      part.hidden = !part.getAttribute("data-repeat-part").split(" ").includes(choice);
    }
  }

  for (const choice of choices) choice.addEventListener("change", update);
  update();
})();
