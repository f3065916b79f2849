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
    "themes": ":material/bubble_chart:",
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
            url_path=name, default=index == 0)
    for index, name in enumerate(ui.ROLE_PAGES[role])
]
st.navigation(pages).run()
st.sidebar.caption(ui.t("times_in", tz=ui.tz()))
