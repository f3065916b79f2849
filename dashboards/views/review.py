"""To review: the verbatims whose analysis is least sure, first (active learning), each with
the correction form."""

from __future__ import annotations

import streamlit as st

from dashboards import corrections, ui

url = ui.require_store()
st.title(ui.t("page.review"))
corrections.review_section(url)
