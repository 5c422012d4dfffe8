"""What several browser tests do the same way."""

import re

PASSWORD = "secret-pass-123"  # make_user's default


def sign_in(page, email="owner@example.com", password=PASSWORD):
    """Sign in through the login form and wait for the dashboard."""
    page.goto("/login/")
    page.get_by_label("Email для входа").fill(email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(re.compile(r"/$"))
