"""The dashboard entry point: `listening dashboard` runs `streamlit run dashboards/app.py`.

A router: language picker, sign-in (dashboards/auth.py), then the pages the role may see.
Every page has its own URL path (``/inbox``...); ``/`` is a hidden landing page that
forwards to the role's first page.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards import auth, ui

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
ui.require_store()

who = auth.resolve()
if who is None:
    # every page path answers with the sign-in form (same url_path, so the same page hash):
    # after signing in at /review the user is on /review, not sent back to /
    gate = [st.Page(auth.sign_in_form, title=ui.t("auth.title"), url_path=name, default=index == 0)
            for index, name in enumerate(("home", *PAGE_ICONS))]
    st.navigation(gate, position="hidden").run()
    st.stop()
auth.sidebar(who)

pages = [
    st.Page(PAGES_DIR / f"{name}.py", title=ui.t(f"page.{name}"), icon=PAGE_ICONS[name],
            url_path=name)
    for name in ui.ROLE_PAGES[who.role]
]


def _landing() -> None:
    kept = {key: st.query_params.get_all(key) for key in st.query_params}  # shared links keep filters
    st.switch_page(pages[0], query_params=kept)


landing = st.Page(_landing, title=ui.t("app.title"), url_path="home", default=True,
                  visibility="hidden")
st.navigation([landing, *pages]).run()
st.sidebar.caption(ui.t("times_in", tz=ui.tz()))
