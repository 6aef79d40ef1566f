"""textcart behind the LangGraph server: persistence hooks, SMS webhook, events and senders."""
