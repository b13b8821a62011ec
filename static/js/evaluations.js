// The evaluation form: the model's fields only for the chat policy.
(function () {
  "use strict";
  const policy = document.getElementById("id_policy");
  const chatFields = document.getElementById("chat-fields");
  if (!policy || !chatFields) return;
  function update() { chatFields.hidden = policy.value !== "chat"; }
  policy.addEventListener("change", update);
  update();
})();
