"""Shared machinery of the tests that use the course as learners do: a fresh Colab-like
environment (colab.py) and JupyterLab in a real browser (jupyterlab.py)."""
