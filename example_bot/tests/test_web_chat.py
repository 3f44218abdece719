"""The web chat page in a real headless Chromium, talking to the running bot over socket.io.

The page (`rasa_llm_components/channels/webchat/`) is served by the signed socket.io channel at
`/webchat/` of the Rasa server that the shared `bot_servers` fixture starts. The demo customer
C1001 signs in with a token in the URL fragment (minted with the secret the servers use), asks
for an order in their own words, returns an item through the bot's buttons, and rates a knowledge
answer with a thumbs up; the feedback must be stored in the conversation's tracker.

Chromium and chromedriver come from Debian (`scripts/system_packages.sh`); selenium is pointed
at them so that it never downloads a browser.

Run: `.venv/bin/pytest -m integration example_bot/tests/test_web_chat.py` (about 1 minute after
the servers are up).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chat_client import ChatClient
from conversation_suite import BotServers, ShopDatabase
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from rasa_llm_components.channels.tokens import mint_token

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
PHONE_WINDOW = (412, 915)  # CSS pixels of a common phone
REPLY_TIMEOUT_S = 60
SETTLE_S = 0.8  # no new bot message for this long: the turn is over
WRONG_REPLY_S = 5.0  # an answer that does not match, then this long nothing more: a failure
CUSTOMER = "C1001"
# Set it to a path to keep a copy of the screenshot (docs/images/web_chat.png was made so).
SCREENSHOT_ENV = "WEB_CHAT_SCREENSHOT"

# What the page shows, read in one call: each message with its text, open choices, sources and
# whether it has feedback buttons.
READ_MESSAGES_JS = """
return Array.from(document.querySelectorAll('#messages > li')).map(function (li) {
  function texts(selector) {
    return Array.from(li.querySelectorAll(selector)).map(function (node) {
      return node.textContent;
    });
  }
  return {
    who: li.classList.contains('message-user') ? 'user' : 'bot',
    text: texts('.text').join('\\n'),
    choices: texts('.choices button:not([disabled])'),
    sources: texts('.source'),
    feedback: li.querySelectorAll('.feedback button:not([disabled])').length
  };
});
"""


class WebChat:
    """The chat page in the browser, driven the way a customer uses it."""

    def __init__(self, driver: WebDriver) -> None:
        self.driver = driver

    def open(self, url: str) -> None:
        self.driver.get(url)
        self.wait(lambda: self.status() == "Connected", "the chat to connect")

    def status(self) -> str:
        return self.driver.find_element(By.ID, "status").text

    def identity(self) -> str:
        return self.driver.find_element(By.ID, "identity").text

    def messages(self) -> list[dict[str, Any]]:
        return list(self.driver.execute_script(READ_MESSAGES_JS))

    def wait(self, condition: Any, what: str, timeout: float = REPLY_TIMEOUT_S) -> Any:
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.2).until(
                lambda _: condition()
            )
        except TimeoutException as error:
            raise AssertionError(
                f"Waited {timeout} s for {what}; the page shows:\n{self.transcript()}"
            ) from error

    def transcript(self) -> str:
        return "\n".join(
            f"{message['who']}: {message['text']}"
            + (f" [choices: {message['choices']}]" if message["choices"] else "")
            + (f" [sources: {message['sources']}]" if message["sources"] else "")
            for message in self.messages()
        )

    def reply_after(self, count: int, pattern: str, what: str) -> list[dict[str, Any]]:
        """Waits until the bot messages after the first `count` messages match `pattern`, the
        typing indicator is gone and no more messages arrive; returns those messages. Fails
        early when the bot answered something else and then stayed quiet."""
        regex = re.compile(pattern, re.IGNORECASE)
        # Rasa sends a turn's messages one by one: (message count, when it last changed).
        seen = [len(self.messages()), time.monotonic()]

        def done() -> bool:
            messages = self.messages()
            if len(messages) != seen[0]:
                seen[:] = [len(messages), time.monotonic()]
            if self.driver.find_element(By.ID, "typing").is_displayed():
                return False
            reply = [message for message in messages[count:] if message["who"] == "bot"]
            quiet = time.monotonic() - seen[1]
            if regex.search("\n".join(message["text"] for message in reply)):
                return quiet >= SETTLE_S
            if reply and quiet >= WRONG_REPLY_S:
                raise AssertionError(
                    f"{what}: no reply matching {pattern!r}; the page shows:\n{self.transcript()}"
                )
            return False

        self.wait(done, f"{what} (a reply matching {pattern!r})")
        return [message for message in self.messages()[count:] if message["who"] == "bot"]

    def say(self, text: str, expect: str) -> list[dict[str, Any]]:
        """Types a message, sends it with Enter and waits for the bot's answer."""
        count = len(self.messages())
        box = self.driver.find_element(By.ID, "message-input")
        box.send_keys(text + "\n")
        self.wait(lambda: len(self.messages()) > count, f"{text!r} to appear")
        assert self.messages()[count] == {
            "who": "user",
            "text": text,
            "choices": [],
            "sources": [],
            "feedback": 0,
        }
        return self.reply_after(count + 1, expect, f"the answer to {text!r}")

    def choose(self, title: str, expect: str) -> list[dict[str, Any]]:
        """Clicks the open choice button whose title contains `title`; waits for the answer."""
        count = len(self.messages())
        buttons = [
            button
            for button in self.driver.find_elements(By.CSS_SELECTOR, ".choices button")
            if button.is_enabled() and title.lower() in button.text.lower()
        ]
        assert buttons, f"no open choice with {title!r}; the page shows:\n{self.transcript()}"
        shown = buttons[-1].text
        buttons[-1].click()
        reply = self.reply_after(count + 1, expect, f"the answer to the choice {shown!r}")
        # The click shows the button's title as the customer's message.
        assert self.messages()[count]["who"] == "user"
        assert self.messages()[count]["text"] == shown
        return reply


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Headless Chromium with a phone-sized window, from the Debian packages."""
    for program in (CHROMIUM, CHROMEDRIVER):
        if not Path(program).exists():
            pytest.fail(f"{program} is missing; run scripts/system_packages.sh as root.")
    work = tmp_path_factory.mktemp("chromium")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={work / 'profile'}")
    options.add_argument(f"--window-size={PHONE_WINDOW[0]},{PHONE_WINDOW[1]}")
    service = Service(executable_path=CHROMEDRIVER, log_output=str(work / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def chat(browser: WebDriver) -> Iterator[WebChat]:
    """The chat page; a fresh browser tab state (no stored token or session) for each test."""
    yield WebChat(browser)
    browser.execute_script("window.sessionStorage.clear();")
    browser.get("about:blank")


def _user_events(tracker: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return [
        (index, event)
        for index, event in enumerate(tracker.get("events", []))
        if event.get("event") == "user"
    ]


def test_signed_customer_order_return_and_feedback(
    bot_servers: BotServers,
    shop_database: ShopDatabase,
    chat_client: ChatClient,
    chat: WebChat,
    tmp_path: Path,
) -> None:
    shop_database.reset()
    chat_client.conversation(CUSTOMER)  # a fresh conversation for C1001 (restart over REST)
    token = mint_token(CUSTOMER, bot_servers.customer_token_secret)

    chat.open(f"{bot_servers.url}/webchat/#token={token}")
    assert "token" not in chat.driver.current_url  # taken out of the address bar
    assert CUSTOMER in chat.identity()

    # An order in the customer's words: the bot answers with C1001's shipped order.
    chat.say("hey, where's my Nimbra Pulse 3? it still hasn't arrived", "ORD-10002")

    # A return through the buttons: the order (that one is still on its way, so another one),
    # then the item, then the reason in words.
    chat.say("I'd like to send something back", r"order number|which order|another order")
    reply = chat.say("the one that was delivered", r"more than one")
    assert any("ORD-10001" in " ".join(message["choices"]) for message in reply), chat.transcript()
    chat.choose("ORD-10001", r"which item|send back")
    chat.choose("Auralis X200", r"why|reason")
    reply = chat.say("the sound is muffled on the left side", r"RMA-\d{6}")
    rma = re.search(r"RMA-\d{6}", "\n".join(message["text"] for message in reply))
    returns = shop_database.new_returns()
    assert len(returns) == 1
    assert returns[0]["order"] == "ORD-10001"
    assert "Auralis X200" in returns[0]["item"]
    assert "muffled" in returns[0]["reason"]
    assert rma and returns[0]["rma_number"] == rma.group(0)

    # A knowledge answer shows its sources and thumbs; a thumbs up is thanked.
    reply = chat.say("do you ship to Canada?", r"canada")
    answer = [message for message in reply if message["sources"]]
    assert answer and answer[-1]["feedback"] == 2, chat.transcript()
    count = len(chat.messages())
    chat.driver.find_elements(By.CSS_SELECTOR, ".feedback-up:not([disabled])")[-1].click()
    chat.reply_after(count, r"thanks for your feedback", "the thanks for the feedback")
    thumbs_up = chat.driver.find_elements(By.CSS_SELECTOR, ".feedback-up")[-1]
    assert thumbs_up.get_attribute("aria-pressed") == "true"
    assert not thumbs_up.is_enabled()  # one vote per answer

    screenshot = tmp_path / "web_chat.png"
    chat.driver.save_screenshot(str(screenshot))
    if os.environ.get(SCREENSHOT_ENV):
        shutil.copyfile(screenshot, os.environ[SCREENSHOT_ENV])

    # The feedback is stored in the customer's conversation, right after the knowledge answer.
    tracker = chat_client.tracker(CUSTOMER)
    index, feedback = _user_events(tracker)[-1]
    assert feedback["parse_data"]["intent"]["name"] == "answer_feedback"
    assert [(e["entity"], e["value"]) for e in feedback["parse_data"]["entities"]] == [
        ("feedback", "up")
    ]
    answered = [
        event
        for event in tracker["events"][:index]
        if event.get("event") == "bot" and (event.get("data") or {}).get("custom")
    ]
    assert answered and answered[-1]["data"]["custom"]["sources"]
    assert "canada" in _user_events({"events": tracker["events"][:index]})[-1][1]["text"].lower()


def test_visitor_and_escaping(bot_servers: BotServers, chat: WebChat) -> None:
    # Without a token the customer chats as a visitor; text is shown as text, never as HTML.
    chat.open(f"{bot_servers.url}/webchat/")
    assert "visitor" in chat.identity().lower()
    markup = "<img src=x onerror=\"document.title='owned'\"> <b>bold?</b>"
    chat.say(markup, r"\w")
    assert chat.driver.find_elements(By.CSS_SELECTOR, "#messages img, #messages b") == []
    assert chat.driver.title != "owned"


def test_refused_token_leaves_a_visitor(bot_servers: BotServers, chat: WebChat) -> None:
    # A token signed with another secret is not accepted: the page says so, offers to sign in,
    # and the chat goes on as a visitor who sees nobody's orders.
    forged = mint_token(CUSTOMER, "not-the-shop-secret-but-32-bytes-long")
    chat.open(f"{bot_servers.url}/webchat/#token={forged}")
    chat.wait(lambda: "not accepted" in chat.identity(), "the refusal", timeout=30)
    assert chat.driver.find_element(By.ID, "sign-in").is_displayed()
    session = chat.driver.execute_script("return window.sessionStorage.getItem('webchat.session')")
    assert session.startswith("visitor-")
    reply = chat.say("where is my order ORD-10002?", r"sign in|account")
    assert "1ZRU0YAK1262057171" not in chat.transcript(), reply


def test_feedback_inside_a_form_keeps_the_form(
    bot_servers: BotServers, shop_database: ShopDatabase, chat_client: ChatClient
) -> None:
    # A thumbs up on a digression's answer, sent while the return form waits for the reason,
    # is thanked and stored; the form resumes and still takes the reason.
    shop_database.reset()
    conversation = chat_client.conversation(CUSTOMER)
    conversation.say("i want to return my headphones from order 10001")
    assert re.search(r"why|reason", "\n".join(conversation.texts), re.IGNORECASE)
    conversation.say('/answer_feedback{"feedback": "down"}')
    texts = "\n".join(conversation.texts)
    assert re.search(r"thanks for your feedback", texts, re.IGNORECASE), texts
    assert re.search(r"why|reason", texts, re.IGNORECASE), texts
    assert conversation.tracker()["active_loop"].get("name") == "return_form"
    conversation.say("they hurt my ears after an hour")
    assert re.search(r"RMA-\d{6}", "\n".join(conversation.texts)), conversation.texts
    returns = shop_database.new_returns()
    assert [(r["order"], "hurt" in r["reason"]) for r in returns] == [("ORD-10001", True)]
