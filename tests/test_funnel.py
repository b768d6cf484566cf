"""Tests of journeylab.measure.funnel: every funnel rule on tiny hand-made logs, intervals against
statsmodels and textbook values, a per-user reference implementation (hypothesis), bad input.

Expected counts are worked out by hand in the comments; the reference implementation
(`reference_funnel`) walks each user's events in order, one user at a time, following the rules
written in the docstring of `journeylab.measure.funnel`.
"""
from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylab.errors import JourneylabError
from journeylab.measure.funnel import FunnelResult, funnel, funnel_paths, plot_funnel, time_to_convert

fmod = importlib.import_module("journeylab.measure.funnel")   # the module (jl.funnel is the function)

T0 = pd.Timestamp("2026-08-03 09:00")


def log(rows, **extra) -> pd.DataFrame:
    """rows: (user, minutes after T0, event[, more columns...])."""
    cols = ["user_id", "minutes", "event"] + list(extra.get("cols", []))
    df = pd.DataFrame(rows, columns=cols)
    df.insert(1, "timestamp", T0 + pd.to_timedelta(df.pop("minutes"), unit="min"))
    return df


def users(result: FunnelResult) -> list[int]:
    return result.steps["users"].tolist()


DAY = 24 * 60


# ----------------------------------------------------------------------------- reference


def reference_funnel(df, steps, *, window="7D", order="closed", entry="first", exclude=None, count="user",
                     user="user_id", time="timestamp", event="event", session="session_id", exclusion="funnel"):
    """Per-unit Python implementation: {unit: [time of each step reached]}.

    exclusion="funnel" (PostHog): an exclusion event after step k-1 and before step k of an attempt
    -- or, the attempt not reaching step k, anywhere in its window -- removes the unit from the funnel.
    exclusion="step": the attempt stops at step k-1.
    """
    sets = [{s} if isinstance(s, str) else set(s) for s in steps]
    n = len(sets)
    W = pd.Timedelta(window) if window is not None else pd.Timedelta(days=10 ** 5)
    pairs: dict[int, set] = {}
    if isinstance(exclude, str):
        exclude = [exclude]
    if isinstance(exclude, list):
        exclude = {e: (1, n) for e in exclude}
    for ev, (a, b) in (exclude or {}).items():
        for k in range(a, b):          # pair (k-1, k) in 0-based terms is between steps k and k+1 (1-based)
            pairs.setdefault(k, set()).add(ev)
    df = df.reset_index(drop=True).assign(_row=np.arange(len(df)))
    key = [user]
    if count == "session":
        df = df[df[session].notna() & (df[session].astype(str).str.strip() != "")]
        key = [user, session]
    out = {}
    for unit, g in df.groupby(key, sort=False, observed=True):
        g = g.sort_values([time, "_row"])
        evs, ts = list(g[event]), list(g[time])
        best = None
        removed = False

        def excl_between(k, lo, hi, dl):
            return any(evs[x] in pairs.get(k, ()) and ts[x] <= dl for x in range(lo, hi))

        starts = set().union(*sets) if order == "any" else sets[0]
        for i, e in enumerate(evs):
            if e not in starts:
                continue
            dl = ts[i] + W
            chain = [i]
            if order == "closed":
                j = i
                for k in range(1, n):
                    nxt = next((p for p in range(j + 1, len(evs)) if ts[p] <= dl and evs[p] in sets[k]), None)
                    if excl_between(k, j + 1, len(evs) if nxt is None else nxt, dl):
                        removed = True
                        break
                    if nxt is None:
                        break
                    chain.append(nxt)
                    j = nxt
            elif order == "strict":
                for k in range(1, n):
                    p = chain[-1] + 1
                    if p < len(evs) and evs[p] in sets[k] and ts[p] <= dl:
                        chain.append(p)
                    else:
                        break
            else:  # any: unordered (PostHog) -- the k-th distinct step done within the window of the start
                firsts = [next((p for p in range(i, len(evs)) if ts[p] <= dl and evs[p] in sets[k]), None)
                          for k in range(n)]
                chain = sorted(p for p in firsts if p is not None)
            if removed and exclusion == "step":   # the attempt stops where the exclusion happened
                removed = False
            if removed:
                break
            if best is None or len(chain) > len(best):
                best = chain
            if entry == "first":
                break
        if best is not None and not removed:
            out[tuple(map(str, unit)) if isinstance(unit, tuple) else (str(unit),)] = [ts[p] for p in best]
    return out


def reference_counts(ref: dict, n: int) -> list[int]:
    return [sum(len(c) > k for c in ref.values()) for k in range(n)]


def assert_matches_reference(df, steps, **kw):
    res = funnel(df, steps=steps, **kw)
    ref = reference_funnel(df, steps, **{k: v for k, v in kw.items() if k != "by"})
    col = "users" if kw.get("count", "user") == "user" else "sessions"
    assert res.steps[col].tolist() == reference_counts(ref, len(steps))
    units = res.units
    keys = ["user_id"] + (["session_id"] if kw.get("count") == "session" else [])
    got = {tuple(str(r[k]) for k in keys): [r[f"step_{j + 1}_at"] for j in range(int(r["steps_reached"]))]
           for _, r in units.iterrows()}
    assert got == ref
    return res


# ----------------------------------------------------------------------------- rules on hand-made logs


def test_closed_funnel_counts_unique_users_with_other_events_between():
    df = log([
        ("a", 0, "view"), ("a", 1, "search"), ("a", 2, "cart"), ("a", 3, "view"), ("a", 4, "buy"),  # all 3
        ("b", 0, "view"), ("b", 5, "cart"),                                                          # 2
        ("c", 0, "view"), ("c", 1, "view"), ("c", 2, "view"),                                        # 1 (counted once)
        ("d", 0, "search"),                                                                          # never enters
    ])
    res = funnel(df, steps=["view", "cart", "buy"])
    assert users(res) == [3, 2, 1]
    s = res.steps
    assert s["drop_off"].tolist() == [0, 1, 1]
    assert s["conversion_from_previous"].tolist()[1:] == pytest.approx([2 / 3, 1 / 2])
    assert s["conversion_from_start"].tolist() == pytest.approx([1, 2 / 3, 1 / 3])
    assert s["drop_off_rate"].tolist()[1:] == pytest.approx([1 / 3, 1 / 2])
    assert np.isnan(s.loc[0, "conversion_from_previous"]) and np.isnan(s.loc[0, "from_start_ci_low"])
    # time from previous: a took 2 min to cart, b 5 min -> median 3.5 min, quartiles 2.75 / 4.25 (linear)
    assert s.loc[1, "median_time_from_previous"] == pd.Timedelta(minutes=3.5)
    assert s.loc[1, "q1_time_from_previous"] == pd.Timedelta(minutes=2.75)
    assert s.loc[1, "q3_time_from_previous"] == pd.Timedelta(minutes=4.25)
    assert s.loc[2, "median_time_from_previous"] == pd.Timedelta(minutes=2)
    assert pd.isna(s.loc[0, "median_time_from_previous"])


def test_steps_must_happen_in_order():
    df = log([("a", 0, "cart"), ("a", 1, "view"),                     # cart before view: only step 1
              ("b", 0, "view"), ("b", 1, "buy"), ("b", 2, "cart")])   # buy before cart: steps 1-2 only
    assert users(funnel(df, steps=["view", "cart", "buy"])) == [2, 1, 0]


def test_window_is_measured_from_step_one_and_is_inclusive():
    df = log([
        ("a", 0, "view"), ("a", 3 * DAY, "cart"), ("a", 8 * DAY, "buy"),   # buy 5 days after cart but 8 after view
        ("b", 0, "view"), ("b", 6 * DAY, "cart"), ("b", 7 * DAY, "buy"),   # exactly 7 days: counts
        ("c", 0, "view"), ("c", 7 * DAY + 1, "cart"),                      # one minute late
    ])
    assert users(funnel(df, steps=["view", "cart", "buy"])) == [3, 2, 1]
    assert users(funnel(df, steps=["view", "cart", "buy"], window="9D")) == [3, 3, 2]
    assert users(funnel(df, steps=["view", "cart", "buy"], window=pd.Timedelta(hours=1))) == [3, 0, 0]


def test_strict_order_allows_no_other_event_between_steps():
    df = log([("a", 0, "view"), ("a", 1, "cart"), ("a", 2, "buy"),
              ("b", 0, "view"), ("b", 1, "search"), ("b", 2, "cart"), ("b", 3, "buy"),
              ("c", 0, "view"), ("c", 1, "cart"), ("c", 2, "view"), ("c", 3, "buy")])
    assert users(funnel(df, steps=["view", "cart", "buy"])) == [3, 3, 3]
    assert users(funnel(df, steps=["view", "cart", "buy"], order="strict")) == [3, 2, 1]


def test_strict_order_with_furthest_entry_tries_every_start():
    # b's first view is followed by a search; the second view is followed directly by cart
    df = log([("b", 0, "view"), ("b", 1, "search"), ("b", 2, "view"), ("b", 3, "cart")])
    assert users(funnel(df, steps=["view", "cart"], order="strict")) == [1, 0]
    assert users(funnel(df, steps=["view", "cart"], order="strict", entry="furthest")) == [1, 1]


def test_any_order_is_fully_unordered():
    """PostHog's unordered funnel: the steps in any order, step 1 included; row k counts users who did
    k distinct steps within the window of the first of them. Hand counts below."""
    df = log([("a", 0, "view"), ("a", 1, "buy"), ("a", 2, "cart"),     # all three, out of order
              ("b", 0, "cart"), ("b", 1, "view"), ("b", 2, "buy"),     # all three, cart first: counts too
              ("c", 0, "view"), ("c", 1, "cart"),                      # two of three
              ("d", 0, "buy"), ("d", 60 * 24 * 8, "view")])            # one within 7 days (view 8 days later)
    assert users(funnel(df, steps=["view", "cart", "buy"])) == [4, 2, 0]     # closed: a, c reach cart; b, d view only
    res = funnel(df, steps=["view", "cart", "buy"], order="any")
    assert users(res) == [4, 3, 2]
    assert res.steps["step"].tolist() == ["1 of 3 steps", "2 of 3 steps", "3 of 3 steps"]
    # a: the k-th distinct step at minutes 0, 1, 2
    a = res.units.set_index("user_id").loc["a"]
    assert [a[f"step_{k}_at"] for k in (1, 2, 3)] == [T0 + pd.Timedelta(minutes=m) for m in (0, 1, 2)]
    # entry="furthest" tries every start: d's view starts an attempt too, still one step
    assert users(funnel(df, steps=["view", "cart", "buy"], order="any", entry="furthest")) == [4, 3, 2]
    assert users(funnel(df, steps=["view", "cart", "buy"], order="any", window=None)) == [4, 4, 2]
    with pytest.raises(JourneylabError, match="share event"):
        funnel(df, steps=["view", ["cart", "buy"], "buy"], order="any")
    with pytest.raises(JourneylabError, match="exclusion steps need an order"):
        funnel(df, steps=["view", "cart", "buy"], order="any", exclude="refund")


def test_repeated_attempts_first_entry_versus_furthest():
    df = log([
        ("a", 0, "view"), ("a", 10 * DAY, "view"), ("a", 11 * DAY, "cart"),   # converts only on the 2nd attempt
        ("b", 0, "view"), ("b", 1, "cart"), ("b", 2, "cart"), ("b", 3, "view"), ("b", 4, "cart"),  # once each step
    ])
    first = funnel(df, steps=["view", "cart"])
    assert users(first) == [2, 1]
    furthest = funnel(df, steps=["view", "cart"], entry="furthest")
    assert users(furthest) == [2, 2]
    # the kept entry of a is the one that got furthest (day 10); for b the earliest of the ties
    u = furthest.units.set_index("user_id")
    assert u.loc["a", "entered_at"] == T0 + pd.Timedelta(days=10)
    assert u.loc["b", "entered_at"] == T0


def test_exclusion_steps_stop_users_where_they_happen():
    df = log([
        ("a", 0, "view"), ("a", 1, "support"), ("a", 2, "cart"), ("a", 3, "buy"),    # support between 1 and 2
        ("b", 0, "view"), ("b", 1, "cart"), ("b", 2, "support"), ("b", 3, "buy"),    # between 2 and 3
        ("c", 0, "view"), ("c", 1, "cart"), ("c", 2, "buy"), ("c", 3, "support"),    # after the last step
        ("d", 0, "support"), ("d", 1, "view"), ("d", 2, "cart"),                     # before step 1
    ])
    steps = ["view", "cart", "buy"]
    assert users(funnel(df, steps=steps)) == [4, 4, 3]
    # PostHog (exclusion="funnel", the default): "users who performed that event within the steps are
    # dropped from the funnel altogether": a and b leave the whole funnel; c and d are unaffected
    # (support after the last step / before step 1). Hand count: view 2 (c, d), cart 2, buy 1 (c).
    assert users(funnel(df, steps=steps, exclude="support")) == [2, 2, 1]
    assert users(funnel(df, steps=steps, exclude=["support"])) == [2, 2, 1]
    # exclusion="step" (the earlier behaviour): a stops at view, b at cart
    assert users(funnel(df, steps=steps, exclude="support", exclusion="step")) == [4, 3, 1]
    # only between step 2 and step 3: a keeps going, b leaves (funnel) or stops at cart (step)
    assert users(funnel(df, steps=steps, exclude={"support": (2, 3)})) == [3, 3, 2]
    assert users(funnel(df, steps=steps, exclude={"support": (2, 3)}, exclusion="step")) == [4, 4, 2]
    with pytest.raises(JourneylabError, match=r"from_step, to_step"):
        funnel(df, steps=steps, exclude={"support": (2, 5)})


def test_exclusion_between_two_occurrences_uses_the_earliest_next_step():
    # support happens after the first cart: the user reached cart before it -> counts at cart
    df = log([("a", 0, "view"), ("a", 1, "cart"), ("a", 2, "support"), ("a", 3, "cart"), ("a", 4, "buy")])
    assert users(funnel(df, steps=["view", "cart", "buy"], exclude="support", exclusion="step")) == [1, 1, 0]
    # PostHog: support between cart and buy removes the user from the funnel
    assert users(funnel(df, steps=["view", "cart", "buy"], exclude="support")) == [0, 0, 0]


def test_an_exclusion_after_the_last_step_reached_within_the_window_removes_the_user():
    # b views and carts, contacts support within the window and never buys: inside their attempt
    df = log([("a", 0, "view"), ("a", 1, "cart"), ("a", 2, "buy"),
              ("b", 0, "view"), ("b", 1, "cart"), ("b", 2, "support"),
              ("c", 0, "view"), ("c", 1, "cart"), ("c", 60 * 24 * 8, "support")])   # c: 8 days later, outside 7D
    steps = ["view", "cart", "buy"]
    assert users(funnel(df, steps=steps, exclude="support")) == [2, 2, 1]
    assert users(funnel(df, steps=steps, exclude="support", exclusion="step")) == [3, 3, 1]
    # with no window, c's support is inside the attempt too
    assert users(funnel(df, steps=steps, exclude="support", window=None)) == [1, 1, 1]


def test_an_exclusion_event_absent_from_the_log_excludes_nobody_with_a_warning():
    df = log([("a", 0, "view"), ("a", 1, "cart"), ("b", 0, "view")])
    with pytest.warns(UserWarning, match=r"'refund' never occur.*exclude nobody"):
        res = funnel(df, steps=["view", "cart"], exclude="refund")
    assert users(res) == [2, 1]


def test_window_none_means_no_window():
    # a buys 30 days after viewing: outside a 7-day window, inside no window
    df = log([("a", 0, "view"), ("a", 60 * 24 * 30, "buy"), ("b", 0, "view"), ("b", 5, "buy")])
    assert users(funnel(df, steps=["view", "buy"])) == [2, 1]
    res = funnel(df, steps=["view", "buy"], window=None)
    assert users(res) == [2, 2]
    assert res.definition["window"] == "no window"
    fmod._FORCE_SORTED = True
    try:
        assert users(funnel(df, steps=["view", "buy"], window=None)) == [2, 2]
    finally:
        fmod._FORCE_SORTED = False


def test_a_step_can_be_a_set_of_events_and_steps_can_be_named():
    df = log([("a", 0, "product_a"), ("a", 1, "cart"),
              ("b", 0, "product_b"), ("b", 1, "cart"),
              ("c", 0, "product_c"), ("c", 1, "cart")])
    res = funnel(df, steps=[["product_a", "product_b"], "cart"])
    assert users(res) == [2, 2]
    assert res.steps["step"].tolist() == ["product_a | product_b", "cart"]
    named = funnel(df, steps={"saw a product": ["product_a", "product_b", "product_c"], "carted": "cart"})
    assert users(named) == [3, 3] and named.steps["step"].tolist() == ["saw a product", "carted"]


def test_one_event_fills_at_most_one_step_and_ties_follow_row_order():
    one = log([("a", 0, "view")])
    two = log([("a", 0, "view"), ("a", 0, "view")])
    assert users(funnel(one, steps={"1st view": "view", "2nd view": "view"})) == [1, 0]
    assert users(funnel(two, steps={"1st view": "view", "2nd view": "view"})) == [1, 1]
    # same timestamp: the row order of the log decides
    in_order = log([("a", 5, "view"), ("a", 5, "cart")])
    reversed_ = log([("a", 5, "cart"), ("a", 5, "view")])
    assert users(funnel(in_order, steps=["view", "cart"])) == [1, 1]
    assert users(funnel(reversed_, steps=["view", "cart"])) == [1, 0]


def test_counting_sessions():
    df = log([("a", 0, "view", "s1"), ("a", 1, "cart", "s1"),
              ("a", 60, "view", "s2"), ("a", 61, "search", "s2"),
              ("b", 0, "view", "s3"), ("b", 5, "cart", "s4"),      # cart in another session
              ("b", 6, "cart", ""),                                  # no session: ignored
              ], cols=["session_id"])
    res = funnel(df, steps=["view", "cart"], count="session")
    assert res.steps["sessions"].tolist() == [3, 1]
    assert "users" not in res.steps.columns
    assert res.definition["rows_ignored"] == 1
    assert users(funnel(df, steps=["view", "cart"])) == [2, 2]
    assert set(res.units.columns) >= {"user_id", "session_id"}


def test_breakdown_is_attributed_at_first_touch_unless_told_otherwise():
    df = log([
        ("a", 0, "ad_click", "social"), ("a", 60, "view", "email"), ("a", 61, "cart", "email"),
        ("b", 0, "view", "email"),
        ("c", 0, "view", "social"), ("c", 1, "cart", "social"),
        ("d", 0, "view", None), ("d", 1, "view", "email"),           # first touch with a value: email
    ], cols=["channel"])
    res = funnel(df, steps=["view", "cart"], by="channel")
    s = res.steps.set_index(["channel", "step_index"])["users"]
    assert s[("social", 1)] == 2 and s[("social", 2)] == 2      # a and c
    assert s[("email", 1)] == 2 and s[("email", 2)] == 0        # b and d
    assert res.units.set_index("user_id").loc["a", "channel"] == "social"
    entry = funnel(df, steps=["view", "cart"], by="channel", attribution="entry").steps.set_index(
        ["channel", "step_index"])["users"]
    # at entry a is email; d's entry view has no channel
    assert entry[("email", 1)] == 2 and entry[("email", 2)] == 1 and entry[("social", 1)] == 1
    assert funnel(df, steps=["view", "cart"], by="channel", attribution="entry").steps["channel"].isna().sum() == 2
    last = funnel(df, steps=["view", "cart"], by="channel", attribution="last_touch").steps.set_index(
        ["channel", "step_index"])["users"]
    assert last[("email", 1)] == 3 and last[("social", 1)] == 1


def test_breakdown_by_two_columns():
    df = log([("a", 0, "view", "mobile", "social"), ("a", 1, "cart", "mobile", "social"),
              ("b", 0, "view", "desktop", "social")], cols=["device", "channel"])
    res = funnel(df, steps=["view", "cart"], by=["device", "channel"])
    assert res.steps[["device", "channel"]].drop_duplicates().shape[0] == 2
    assert {"device_a", "channel_a", "device_b", "channel_b"} <= set(res.comparisons.columns)


# ----------------------------------------------------------------------------- statistics


def test_wilson_interval_matches_textbook_and_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    # 10 users enter, 8 reach step 2. Wilson 95% for 8/10, by hand (Wilson 1927):
    # centre (8 + 1.96²/2) / (10 + 1.96²) = 0.7167, half-width 1.96·sqrt(8·2/10 + 1.96²/4) / 13.8415 = 0.2266
    # -> (0.4902, 0.9433), the value in Newcombe (1998) style tables for 8/10.
    rows = [(f"u{i}", 0, "view") for i in range(10)] + [(f"u{i}", 1, "cart") for i in range(8)]
    s = funnel(log(rows), steps=["view", "cart"]).steps
    assert s.loc[1, "from_previous_ci_low"] == pytest.approx(0.4902, abs=1e-4)
    assert s.loc[1, "from_previous_ci_high"] == pytest.approx(0.9433, abs=1e-4)
    lo, hi = proportion_confint(8, 10, alpha=0.05, method="wilson")
    assert (s.loc[1, "from_start_ci_low"], s.loc[1, "from_start_ci_high"]) == pytest.approx((lo, hi), abs=1e-12)
    s90 = funnel(log(rows), steps=["view", "cart"], alpha=0.10).steps
    assert s90.loc[1, "from_previous_ci_low"] == pytest.approx(proportion_confint(8, 10, 0.10, "wilson")[0])


def test_group_comparison_is_the_pooled_z_test_with_holm_correction():
    from scipy.stats import chi2_contingency
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(7)
    rows = []
    for i in range(400):
        dev = "mobile" if i % 2 else "desktop"
        rows.append((f"u{i}", 0, "view", dev))
        p_cart = 0.5 if dev == "mobile" else 0.65
        if rng.random() < p_cart:
            rows.append((f"u{i}", 1, "cart", dev))
            if rng.random() < 0.8:
                rows.append((f"u{i}", 2, "buy", dev))
    df = log(rows, cols=["device"])
    res = funnel(df, steps=["view", "cart", "buy"], by="device")
    comp = res.comparisons
    assert len(comp) == 2 and comp["correction"].eq("holm").all()
    st_ = res.steps.set_index(["device", "step_index"])["users"]
    for _, r in comp.iterrows():
        k = r["step_index"]
        a_prev, a_now = st_[("desktop", k - 1)], st_[("desktop", k)]
        b_prev, b_now = st_[("mobile", k - 1)], st_[("mobile", k)]
        assert (r["device_a"], r["device_b"]) == ("desktop", "mobile")
        assert r["difference"] == pytest.approx(b_now / b_prev - a_now / a_prev)
        table = [[a_now, a_prev - a_now], [b_now, b_prev - b_now]]
        # pooled z test == Pearson chi-square of the 2x2 table without continuity correction
        assert r["p_value"] == pytest.approx(chi2_contingency(table, correction=False)[1], rel=1e-9)
        assert r["ci_low"] < r["difference"] < r["ci_high"]
    assert comp["p_adj"].tolist() == pytest.approx(multipletests(comp["p_value"], method="holm")[1].tolist())
    bonf = funnel(df, steps=["view", "cart", "buy"], by="device", correction="bonferroni").comparisons
    assert bonf["correction"].eq("bonferroni").all()
    assert bonf["p_adj"].tolist() == pytest.approx(np.minimum(comp["p_value"] * 2, 1).tolist())
    with pytest.raises(JourneylabError, match="multipletests"):
        funnel(df, steps=["view", "cart"], by="device", correction="nope")


def test_three_groups_give_every_pair():
    df = log([(f"u{i}", 0, "view", g) for i, g in enumerate("xyzxyz")] + [("u0", 1, "cart", "x")], cols=["g"])
    comp = funnel(df, steps=["view", "cart"], by="g").comparisons
    assert comp[["g_a", "g_b"]].apply(tuple, axis=1).tolist() == [("x", "y"), ("x", "z"), ("y", "z")]


# ----------------------------------------------------------------------------- reference implementation


EVENTS = ["A", "B", "C", "D", "X"]


@st.composite
def random_log(draw):
    n_users = draw(st.integers(1, 5))
    rows = []
    for u in range(n_users):
        n = draw(st.integers(0, 9))
        for _ in range(n):
            rows.append((f"u{u}", draw(st.integers(0, 12)), draw(st.sampled_from(EVENTS)),
                         draw(st.sampled_from(["s1", "s2"]))))
    if not any(r[2] == "A" for r in rows):
        rows.append(("u0", 0, "A", "s1"))
    for e in EVENTS:                      # every event present (steps must exist in the log)
        rows.append(("zz", 100, e, "s9"))
    order = draw(st.permutations(range(len(rows))))
    df = log([rows[i] for i in order], cols=["session_id"])
    if draw(st.booleans()):                # sorted by time, as exports are: the one-pass path of the engine
        df = df.sort_values("timestamp", kind="stable").reset_index(drop=True)
    if draw(st.booleans()):                # categorical ids: the no-copy path of the engine
        df["user_id"] = df["user_id"].astype("category")
    return df


STEP_CHOICES = [["A", "B", "C"], ["A", ["B", "C"], "D"], ["A", "A", "B"], ["A", "B", "A", "B"], ["A", "D"]]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=random_log(), steps=st.sampled_from(STEP_CHOICES), order=st.sampled_from(["closed", "strict", "any"]),
       entry=st.sampled_from(["first", "furthest"]), excl=st.sampled_from([None, "X", {"X": (2, 3)}]),
       count=st.sampled_from(["user", "session"]), window=st.sampled_from(["5min", "7D", None]),
       exclusion=st.sampled_from(["funnel", "step"]))
def test_matches_per_user_reference(df, steps, order, entry, excl, count, window, exclusion):
    if order == "any" and steps in (["A", "A", "B"], ["A", "B", "A", "B"]):
        steps = ["A", "B", "C"]
    if order == "any":      # unordered funnels have no "between two steps" (PostHog)
        excl = None
    if isinstance(excl, dict) and len(steps) < 3:
        excl = "X"
    assert_matches_reference(df, steps, order=order, entry=entry, exclude=excl, count=count, window=window,
                             exclusion=exclusion)


@settings(max_examples=60, deadline=None)
@given(df=random_log(), steps=st.sampled_from(STEP_CHOICES[:2] + STEP_CHOICES[4:]),
       order=st.sampled_from(["closed", "any"]), excl=st.sampled_from([None, "X"]),
       exclusion=st.sampled_from(["funnel", "step"]))
def test_sorting_and_non_sorting_engines_agree(df, steps, order, excl, exclusion):
    if order == "any":
        excl = None
    fast = funnel(df, steps=steps, order=order, exclude=excl, exclusion=exclusion)
    assert not fmod._FORCE_SORTED
    fmod._FORCE_SORTED = True
    try:
        slow = funnel(df, steps=steps, order=order, exclude=excl, exclusion=exclusion)
    finally:
        fmod._FORCE_SORTED = False
    pd.testing.assert_frame_equal(fast.steps, slow.steps)
    pd.testing.assert_frame_equal(fast.units.sort_values("user_id").reset_index(drop=True),
                                  slow.units.sort_values("user_id").reset_index(drop=True))


def test_sample_study_matches_reference_on_a_user_sample(sample_study):

    study = sample_study
    ev = study.events
    sample = ev[ev["user_id"].isin(ev["user_id"].drop_duplicates().iloc[::40])]
    res = assert_matches_reference(sample, study.funnel_steps, window=study.funnel_window)
    assert res.steps["users"].iloc[0] > 400


# ----------------------------------------------------------------------------- column types


def test_user_id_types_and_timestamp_forms_give_the_same_funnel():
    df = log([("a", 0, "view"), ("a", 1, "cart"), ("b", 0, "view"), ("c", 2, "view"), ("c", 3, "cart")])
    base = users(funnel(df, steps=["view", "cart"]))
    assert base == [3, 2]
    as_int = df.assign(user_id=df["user_id"].map({"a": 10, "b": 7, "c": 10**12}))
    as_small_int = df.assign(user_id=df["user_id"].map({"a": 1, "b": 2, "c": 3}))
    as_cat = df.assign(user_id=df["user_id"].astype("category"), event=df["event"].astype("category"))
    as_obj = df.astype({"user_id": object, "event": object})
    as_text_time = df.assign(timestamp=df["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    as_tz = df.assign(timestamp=df["timestamp"].dt.tz_localize("Europe/London"))
    for variant in (as_int, as_small_int, as_cat, as_obj, as_text_time, as_tz):
        assert users(funnel(variant, steps=["view", "cart"])) == base
    renamed = df.rename(columns={"user_id": "visitor", "timestamp": "ts", "event": "action"})
    assert users(funnel(renamed, steps=["view", "cart"], user="visitor", time="ts", event="action")) == base


def test_does_not_mutate_input():
    df = log([("a", 0, "view"), ("a", 1, "cart")], cols=[])
    before = df.copy()
    funnel(df, steps=["view", "cart"], by=None)
    pd.testing.assert_frame_equal(df, before)


# ----------------------------------------------------------------------------- bad input


def test_missing_columns_name_them_and_hint_at_user_time():
    df = pd.DataFrame({"visitor": ["a"], "ts": [T0], "event": ["view"]})
    with pytest.raises(JourneylabError, match=r"missing column\(s\) 'user_id', 'timestamp'.*user=.*time="):
        funnel(df, steps=["view", "cart"])
    with pytest.raises(JourneylabError, match="session_id"):
        funnel(log([("a", 0, "view")]), steps=["view", "view"], count="session")
    with pytest.raises(JourneylabError, match="`events` must be a pandas or Dask DataFrame, got list"):
        funnel([1, 2], steps=["a", "b"])


def test_unparseable_timestamp_names_the_row():
    df = pd.DataFrame({"user_id": ["a", "a", "b"], "timestamp": ["2026-08-03T09:00:00Z", "yesterday",
                                                                    "2026-08-03T09:05:00Z"],
                       "event": ["view", "cart", "view"]})
    with pytest.raises(JourneylabError, match=r"row 1 .*'yesterday'"):
        funnel(df, steps=["view", "cart"])
    df.loc[1, "timestamp"] = None
    with pytest.raises(JourneylabError, match=r"row 1 .*missing timestamp"):
        funnel(df, steps=["view", "cart"])
    with pytest.raises(JourneylabError, match="holds numbers"):
        funnel(df.assign(timestamp=[1, 2, 3]), steps=["view", "cart"])


def test_steps_not_in_the_log_are_reported_with_a_suggestion():
    df = log([("a", 0, "view"), ("a", 1, "add_to_cart")])
    with pytest.raises(JourneylabError, match=r"'add_to_crat' \(did you mean 'add_to_cart'\?\).*Events present"):
        funnel(df, steps=["view", "add_to_crat"])
    with pytest.warns(UserWarning, match="never occur"):      # an absent exclusion event excludes nobody
        funnel(df, steps=["view", "add_to_cart"], exclude="refund")


@pytest.mark.parametrize("kwargs, match", [
    (dict(steps="view"), "list of event names"),
    (dict(steps=["view"]), "at least 2"),
    (dict(steps=["view", 3]), "step 2"),
    (dict(steps=["view", "cart"], window="soon"), "duration"),
    (dict(steps=["view", "cart"], window="-1D"), "positive"),
    (dict(steps=["view", "cart"], order="loose"), "`order` must be one of"),
    (dict(steps=["view", "cart"], entry="last"), "`entry` must be one of"),
    (dict(steps=["view", "cart"], count="visits"), "`count` must be one of"),
    (dict(steps=["view", "cart"], attribution="linear", by="event"), "`attribution` must be one of"),
    (dict(steps=["view", "cart"], alpha=5), "alpha"),
    (dict(steps=["view", "cart"], exclude=3), "exclude"),
    (dict(steps=["view", "cart"], by="device"), "device"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(JourneylabError, match=match):
        funnel(log([("a", 0, "view"), ("a", 1, "cart")]), **kwargs)


# ----------------------------------------------------------------------------- paths, time, plot


def test_time_to_convert_quantiles_by_group():
    df = log([("a", 0, "cart", "m"), ("a", 10, "buy", "m"),
              ("b", 0, "cart", "m"), ("b", 30, "buy", "m"),
              ("c", 0, "cart", "d"), ("c", 60, "buy", "d"),
              ("d", 0, "cart", "d")], cols=["device"])
    t = time_to_convert(df, steps=["cart", "buy"], by="device", quantiles=[0.5])
    t = t.set_index("device")
    assert t.loc["m", "n"] == 2 and t.loc["m", "p50"] == pd.Timedelta(minutes=20)
    assert t.loc["d", "mean"] == pd.Timedelta(minutes=60) and t.loc["d", "max"] == pd.Timedelta(minutes=60)
    assert t.loc["m", "min"] == pd.Timedelta(minutes=10)
    assert (t["from_step"] == "cart").all() and (t["to_step"] == "buy").all()
    with pytest.raises(JourneylabError, match="from_step < to_step"):
        time_to_convert(df, steps=["cart", "buy"], from_step=2, to_step=2)


def test_funnel_paths_show_where_non_converters_go():
    df = log([
        ("a", 0, "ship_form"), ("a", 1, "cart"), ("a", 2, "cart"), ("a", 3, "view"),       # cart → view → (end)
        ("b", 0, "ship_form"), ("b", 1, "cart"), ("b", 2, "view"), ("b", 3, "view"),       # same path (collapsed)
        ("c", 0, "ship_form"), ("c", 1, "view"), ("c", 2, "cart"), ("c", 3, "ship_form"), ("c", 4, "exit"),
        ("d", 0, "ship_form"), ("d", 5, "payment"),                                        # converted
        ("e", 0, "ship_form"),                                                              # nothing more
        ("f", 0, "ship_form"), ("f", 20 * DAY, "cart"),                                     # outside the window
    ])
    p = funnel_paths(df, from_step="ship_form", to_step="payment", length=3)
    got = dict(zip(p["path"], p["n"]))
    assert got == {"cart → view → (end)": 2, "view → cart → ship_form": 1, "(end)": 2}
    assert p["share"].sum() == pytest.approx(1.0) and p.loc[0, "n"] == 2 and p.loc[0, "rank"] == 1
    raw = funnel_paths(df, from_step="ship_form", to_step="payment", length=2, collapse_repeats=False)
    assert dict(zip(raw["path"], raw["n"]))["cart → cart"] == 1
    conv = funnel_paths(df, from_step="ship_form", to_step="payment", converted=True)
    assert conv["path"].tolist() == ["payment → (end)"]
    top1 = funnel_paths(df, from_step="ship_form", to_step="payment", top=1)
    assert top1["path"].tolist()[-1].startswith("(other paths") and top1["n"].sum() == 5


def test_plot_funnel_draws_bars_whiskers_and_drop_off(tmp_path):
    df = log([(f"u{i}", 0, "view", "m" if i % 2 else "d") for i in range(20)]
             + [(f"u{i}", 1, "cart", "m" if i % 2 else "d") for i in range(12)]
             + [(f"u{i}", 2, "buy", "m" if i % 2 else "d") for i in range(5)], cols=["device"])
    res = funnel(df, steps=["view", "cart", "buy"])
    ax = plot_funnel(res)
    texts = [t.get_text() for t in ax.texts]
    assert any("−8" in t and "40% drop" in t for t in texts)   # 20 -> 12: 8 users, 40 %
    assert len([p for p in ax.patches if p.get_height() > 0]) >= 3
    ax.figure.savefig(tmp_path / "funnel.png")
    ax2 = res.plot()
    assert ax2 is not None
    grouped = plot_funnel(funnel(df, steps=["view", "cart", "buy"], by="device").steps)
    assert grouped.get_legend() is not None
    step_rates = plot_funnel(res, metric="from_previous")
    heights = sorted(round(p.get_height(), 6) for p in step_rates.patches if p.get_height() > 0)
    assert heights == [round(5 / 12 * 100, 6), 60.0]                  # 12/20 and 5/12, step 1 left out
    with pytest.raises(JourneylabError, match="metric"):
        plot_funnel(res, metric="ratio")
    with pytest.raises(JourneylabError, match="FunnelResult"):
        plot_funnel("nope")


def test_result_repr_and_html():
    res = funnel(log([("a", 0, "view"), ("a", 1, "cart")], cols=[]), steps=["view", "cart"])
    assert "FunnelResult" in repr(res) and "cart" in repr(res)
    assert "<table" in res._repr_html_()
    assert res.comparisons.empty and "p_adj" in res.comparisons.columns
