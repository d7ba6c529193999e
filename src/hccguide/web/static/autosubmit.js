// Submit a form when a <select data-autosubmit> changes (the site CSP forbids inline event handlers).
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) el.form.submit();
});
