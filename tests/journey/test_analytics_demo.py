"""The demo map's analytics against a hand computation from the volumes in cjm/seed/demo.en.json.

Every figure below is plain arithmetic on the file's transition volumes, written out, so a change
to the demo or to the analytics shows up here (acceptance 1 of issue 5). The page test in
tests/test_analytics_view.py checks that the analytics page names the same figures.
"""

import json
from pathlib import Path

import pytest

from cjm.journey.analytics import analyze
from cjm.journey.serialize import from_document

DEMO = Path(__file__).resolve().parents[2] / "cjm" / "seed" / "demo.en.json"
DOC = json.loads(DEMO.read_text(encoding="utf-8"))
V = {t["key"]: t["volume"] for t in DOC["transitions"]}  # volume by transition key
NAME = {t["key"]: t["name"] for t in DOC["touchpoints"]}
KIND = {t["key"]: t["kind"] for t in DOC["touchpoints"]}

# --- customers entering: what leaves the two entries ---------------------------------------------
BLOGGER_OUT = V["review-to-catalogue"] + V["review-to-product"]  # 350 + 250 = 600
SEARCH_OUT = V["search-to-catalogue"]  # 400
ENTERING = BLOGGER_OUT + SEARCH_OUT  # 600 + 400 = 1000

# --- the product page: where most customers are lost ---------------------------------------------
PRODUCT_IN = (
    V["catalogue-to-product"]  # 750
    + V["review-to-product"]  # 250
    + V["reviews-to-product"]  # 300, back from the app reviews
    + V["call-to-product"]  # 50, back from the compatibility call
)  # = 1350
PRODUCT_ON = V["product-to-reviews"] + V["product-to-call"] + V["product-to-cart"]  # 300+120+420
PRODUCT_DROP = PRODUCT_IN - PRODUCT_ON  # 1350 − 840 = 510 (all of it "Cheaper elsewhere")
PRODUCT_SHARE = PRODUCT_DROP / PRODUCT_IN  # 510 / 1350 = 37.8 %

# The other touchpoints that lose customers, for comparison (in − what goes on):
CART_DROP = (V["product-to-cart"] + V["call-to-cart"]) - V["cart-to-checkout"]  # 480 − 400 = 80
CALL_DROP = V["product-to-call"] - V["call-to-product"] - V["call-to-cart"]  # 120 − 50 − 60 = 10
REQUEST_DROP = V["setup-to-review-request"] - V["request-to-review"] - V["request-to-repeat"]
# 270 − 130 − 70 = 70
assert PRODUCT_DROP > max(CART_DROP, REQUEST_DROP, CALL_DROP)

# Consideration loses the product page's 510 and the compatibility call's 10.
CONSIDERATION_LOST = PRODUCT_DROP + CALL_DROP  # 520

# --- the main path: the widest entry→goal path (its narrowest transition) ------------------------
MAIN = [
    "search-to-catalogue",  # 400
    "catalogue-to-product",  # 750
    "product-to-cart",  # 420
    "cart-to-checkout",  # 400
    "checkout-to-confirmation",  # 330
    "confirmation-to-tracking",  # 330
    "tracking-to-pickup",  # 270
]
MAIN_WIDTH = min(V[k] for k in MAIN)  # 270
# The same path from the blogger's review is as wide: min(350, 750, …, 270) = 270; straight to
# the product page min(250, …) = 250; via the compatibility call ≤ 60, the delay call ≤ 45, on to
# the loyalty goals ≤ 70. The tie at 270 goes to the larger expected flow: both share every
# conversion after their first step, and 400 customers start it from the search against 350.
RIVAL = ["review-to-catalogue", *MAIN[1:]]
assert (
    min(V[k] for k in RIVAL) == MAIN_WIDTH and V["search-to-catalogue"] > V["review-to-catalogue"]
)
MAIN_TOUCHPOINTS = [
    "web-search",
    "catalogue",
    "product-page",
    "cart",
    "checkout",
    "order-confirmation",
    "order-tracking",
    "pickup",
]

# --- dead ends: touchpoints that are neither goal nor exit and lead nowhere else ----------------
LEADS = {t["from"] for t in DOC["transitions"] if t["from"] != t["to"]}
DEAD_ENDS = [k for k, kind in KIND.items() if kind not in ("goal", "exit") and k not in LEADS]

# --- loops: the back-and-forth pairs, each as wide as its narrower direction --------------------
LOOPS = {
    ("product-page", "app-reviews"): min(V["product-to-reviews"], V["reviews-to-product"]),  # 300
    ("product-page", "compatibility-call"): min(V["product-to-call"], V["call-to-product"]),  # 50
    ("checkout", "payment-failed"): min(V["checkout-to-payment-failed"], V["payment-retry"]),  # 90
    ("setup", "support-call"): min(V["setup-to-support"], V["support-to-setup"]),  # 40
}
BUSIEST_LOOP = ("product-page", "app-reviews")


def test_the_hand_computation_itself():
    """The written-out figures, so a reader sees the numbers without running anything."""
    assert (ENTERING, PRODUCT_IN, PRODUCT_ON, PRODUCT_DROP) == (1000, 1350, 840, 510)
    assert round(PRODUCT_SHARE * 100, 1) == 37.8
    assert (CART_DROP, CALL_DROP, REQUEST_DROP, CONSIDERATION_LOST) == (80, 10, 70, 520)
    assert MAIN_WIDTH == 270 and DEAD_ENDS == []
    assert LOOPS == {
        ("product-page", "app-reviews"): 300,
        ("product-page", "compatibility-call"): 50,
        ("checkout", "payment-failed"): 90,
        ("setup", "support-call"): 40,
    }


@pytest.fixture(scope="module")
def result():
    return analyze(from_document(DOC))


def test_analytics_agree_with_the_hand_computation(result):
    stats = {t.key: t for t in result.touchpoints}
    assert result.entry_volume == ENTERING
    assert list(result.main_path.transitions) == MAIN
    assert list(result.main_path.touchpoints) == MAIN_TOUCHPOINTS
    assert result.main_path.bottleneck == MAIN_WIDTH
    assert result.losses[0] == "product-page"
    product = stats["product-page"]
    assert (product.volume_in, product.drop_off) == (PRODUCT_IN, PRODUCT_DROP)
    assert (stats["cart"].drop_off, stats["compatibility-call"].drop_off) == (CART_DROP, CALL_DROP)
    assert result.biggest_loss_stage == "consideration"
    assert {s.key: s.lost for s in result.stages}["consideration"] == CONSIDERATION_LOST
    assert result.dead_ends == DEAD_ENDS
    assert {lp.touchpoints: lp.volume for lp in result.loops.items} == LOOPS
    assert not result.loops.truncated and not result.paths.truncated
