// The claim page: of the sentences saying what the certificate will be, show the one for the credit the
// learner is entering (AMA credit: a certificate of credit; other credit only: a certificate of completion).
// Without this script every sentence stays visible, each naming its choice.
(function () {
  "use strict";
  const note = document.getElementById("certificate-note");
  const form = note && note.closest("form");
  if (!form) {
    return;
  }
  const inputs = Array.from(form.querySelectorAll('input[name^="credit_"]'));
  const sentences = Array.from(note.querySelectorAll("p[data-kind]"));
  function update() {
    const entered = inputs.filter((input) => Number(input.value) > 0);
    if (entered.length === 0) {
      sentences.forEach((p) => { p.hidden = false; });
      return;
    }
    const kind = entered.some((input) => input.name === "credit_ama_pra_1") ? "credit" : "completion";
    sentences.forEach((p) => { p.hidden = p.dataset.kind !== kind; });
  }
  inputs.forEach((input) => input.addEventListener("input", update));
  update();
}());
