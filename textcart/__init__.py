"""textcart: conversational commerce over SMS, as a LangGraph state machine."""
