"""Drawing: ``plot_<thing>(info) -> plotly Figure``. No TensorFlow, no streamlit."""
