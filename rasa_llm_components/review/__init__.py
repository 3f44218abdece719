"""The review loop: what the bot could not answer, what it was unsure about, what customers
disliked, read back from Rasa's SQL tracker store.

    python -m rasa_llm_components.review --tracker-store sqlite:///conversations.db --out review/
    python -m rasa_llm_components.review merge review/annotations.yml --into data/nlu.yml

Modules: `store` (where the events are), `events` (stored events as conversation turns),
`redaction` (personal data out of every output), `annotations` (messages to annotate, and merging
them into the training data), `gaps` (knowledge gaps grouped by similar questions), `feedback`
(thumbs-down answers and handoffs), `timeline`, `plots` and `report` (the HTML report), `review`
(the whole run), `__main__` (the command line). See docs/review_loop.md.
"""
