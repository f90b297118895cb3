"""Pure computation, one module per concern: no streamlit, no plotly."""
