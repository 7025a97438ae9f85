"""The app's pieces, without Streamlit: what the app shows, computed without Streamlit: escaping, highlighting, layout, exports, verdicts.

`app.py` holds only widgets; everything in this package is plain Python so it can be unit-tested.

Safety rule: corpus text, metadata, questions and generated answers are untrusted. Everything
built here as HTML is `html.escape`d first, and only then are our own tags (<mark>, <div>, ...)
added around the escaped text; the app passes it to `st.html` (no Markdown interpretation, and
Streamlit sanitises it again). Text written as Markdown (the download) has every Markdown and HTML
metacharacter escaped, so `![x](http://...)` or `<img onerror=...>` in a document stays text.
"""
