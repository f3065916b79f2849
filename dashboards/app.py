"""The dashboard entry point: `listening dashboard` runs `streamlit run dashboards/app.py`.

A router: language picker, optional sign-in, then the pages the role may see.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards import ui

# not "pages/": Streamlit would run that folder as a legacy multipage app and bypass this router
PAGES_DIR = Path(__file__).parent / "views"
PAGE_ICONS = {
    "overview": ":material/monitoring:",
    "inbox": ":material/inbox:",
    "competitors": ":material/compare_arrows:",
    "explorer": ":material/search:",
    "review": ":material/rule:",
    "sources": ":material/rss_feed:",
}

st.set_page_config(page_title="listening", page_icon=":material/hearing:", layout="wide")
ui.language_picker()

role = ui.current_role()
if role is None:
    ui.login_form()
    st.stop()

if ui.settings().dashboard.passwords:
    st.sidebar.caption(ui.t("auth.role", role=role))
    if st.sidebar.button(ui.t("auth.logout")):
        st.session_state.pop("role", None)
        st.rerun()

pages = [
    st.Page(PAGES_DIR / f"{name}.py", title=ui.t(f"page.{name}"), icon=PAGE_ICONS[name],
            url_path=name)
    for name in ui.ROLE_PAGES[role]
]


def _home() -> None:
    """The root URL opens the role's first page at its own path (``/overview``...), with the
    query parameters of the link, so every page has one shareable URL."""
    qp = st.query_params
    st.switch_page(pages[0], query_params=[(k, v) for k in qp for v in qp.get_all(k)])


# Streamlit serves its default page at "/" only (its url_path then 404s): the default page
# is this hidden redirect, and every real page keeps a URL path of its own
home = st.Page(_home, title=pages[0].title, url_path="home", default=True, visibility="hidden")
st.navigation([home, *pages]).run()
st.sidebar.caption(ui.t("times_in", tz=ui.tz()))
