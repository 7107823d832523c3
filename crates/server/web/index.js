// The login page: logging in, and choosing a new password when one was set by someone else.
applyLabels();
document.getElementById("lang").addEventListener("click", toggleLanguage);
document.getElementById("login-form").addEventListener("submit", (e) => {
  e.preventDefault();
  once(document.getElementById("login"), logIn);
});
async function logIn() {
  try {
    const r = await api("POST", "/api/login", {
      username: document.getElementById("username").value,
      password: document.getElementById("password").value,
    });
    if (r.user.must_change_password) {
      currentPassword = document.getElementById("password").value;
      document.querySelector(".login").hidden = true;
      document.getElementById("change-section").hidden = false;
      document.getElementById("new-password").focus();
      return;
    }
    location.href = HOME[r.user.role];
  } catch (err) {
    flash(said(err.code === "unauthenticated" ? { code: "wrong_credentials" } : err), true);
  }
}

// A password set by someone else (the first start, an admin's reset) is
// changed before anything else.
let currentPassword = "";
document.getElementById("change-form").addEventListener("submit", (e) => {
  e.preventDefault();
  once(document.getElementById("change"), changePassword);
});
async function changePassword() {
  const box = document.getElementById("change-flash");
  const next = document.getElementById("new-password").value;
  if (next !== document.getElementById("repeat-password").value) {
    box.textContent = t("passwords_differ");
    box.className = "flash error";
    return;
  }
  try {
    await api("POST", "/api/me/password", { current_password: currentPassword, new_password: next });
    const me = await api("GET", "/api/me");
    location.href = HOME[me.user.role];
  } catch (err) {
    box.textContent = said(err);
    box.className = "flash error";
  }
}
