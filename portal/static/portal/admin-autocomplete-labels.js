// select2 shows its value in a textbox-role span with no name of its own: give it the field's label.
// (A jQuery ready handler registered after the admin's autocomplete.js one, so it runs after select2.)
django.jQuery(function () {
  document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
    var label = document.querySelector('label[for="' + select.id + '"]');
    var shown = document.getElementById("select2-" + select.id + "-container");
    if (label && shown) { shown.setAttribute("aria-label", label.textContent.trim()); }
  });
});
