"""The metrics of docs/metrics.md computed independently, in plain Python, from the replayer's truth."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime
from typing import Any

SPOILER_TAG = re.compile(r"\[/?spoiler\]")
HORIZON = 365


def word_count(text: str) -> int:
    return len(re.findall(r"\S+", SPOILER_TAG.sub("", text)))


def percent_rank(values: dict[str, float]) -> dict[str, float]:
    """SQL's percent_rank(): the share of the other rows with a strictly lower value."""
    n = len(values)
    ordered = sorted(values.values())
    out = {}
    for key, value in values.items():
        lower = sum(1 for v in ordered if v < value)
        out[key] = lower / (n - 1) if n > 1 else 0.0
    return out


def _div(a: float, b: float) -> float | None:
    return a / b if b else None


def title_metrics(
    comments: list[dict[str, Any]], titles: list[dict[str, Any]], as_of: date
) -> dict[str, dict[str, Any]]:
    """Per title_key, every metric of mart_title_engagement."""
    anchors: dict[str, date] = {}
    for t in titles:
        anchors[f"{t['media_type']}:{t['trakt_id']}"] = t["release_date"]
    by_title: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in comments:
        created: datetime = c["created_at"]
        if created.date() <= as_of:
            by_title[f"{c['title_media_type']}:{c['title_trakt_id']}"].append(c)
    first_comment = {key: min(c["created_at"].date() for c in rows) for key, rows in by_title.items()}
    out: dict[str, dict[str, Any]] = {}
    for key in set(anchors) | set(by_title):
        rows = by_title.get(key, [])
        anchor = anchors.get(key) or first_comment.get(key)
        n = len(rows)
        top = [c for c in rows if c["parent_id"] == 0]
        replies = n - len(top)
        users = {c["user_slug"] for c in rows}
        recent = {c["user_slug"] for c in rows if (as_of - c["created_at"].date()).days < 30}
        likes = sum(c["likes"] for c in rows)
        spoilers = sum(1 for c in rows if c["spoiler"] or "[spoiler]" in c["comment"])
        d_values = [max((c["created_at"].date() - anchor).days, 0) for c in rows] if anchor else []
        within = sorted(d for d in d_values if d < HORIZON)
        half_life = None
        if within:
            for i, d in enumerate(within):
                if (i + 1) * 2 >= len(within) and (i + 1 == len(within) or within[i + 1] != d):
                    half_life = d
                    break
        out[key] = {
            "comments_total": n,
            "top_level_comments": len(top),
            "replies_total": replies,
            "unique_commenters": len(users),
            "unique_commenters_30d": len(recent),
            "likes_total": likes,
            "comments_per_commenter": _div(n, len(users)),
            "likes_per_comment": _div(likes, n),
            "replies_per_top_level": _div(replies, len(top)),
            "review_share": _div(sum(1 for c in top if c["review"]), len(top)),
            "spoiler_share": _div(spoilers, n),
            "avg_word_count": _div(sum(word_count(c["comment"]) for c in rows), n),
            "comments_in_horizon": len(within) or None,
            "half_life_days": half_life,
            "active_weeks_26": len({d // 7 for d in d_values if d < 182}),
            "late_share_90d": _div(sum(1 for d in within if d >= 90), len(within)),
            "durability_censored": (as_of - anchor).days < HORIZON if anchor else None,
        }
    ranked = {k: v for k, v in out.items() if v["comments_total"] > 0}
    breadth = percent_rank({k: v["unique_commenters"] for k, v in ranked.items()})
    depth = percent_rank({k: v["comments_per_commenter"] for k, v in ranked.items()})
    likes_rank = percent_rank({k: v["likes_per_comment"] for k, v in ranked.items()})
    durability = percent_rank({k: v["active_weeks_26"] for k, v in ranked.items()})
    for key, metrics in out.items():
        if key in ranked:
            intensity = (depth[key] + likes_rank[key]) / 2
            metrics["engagement_score"] = 100 * (breadth[key] + intensity + durability[key]) / 3
        else:
            metrics["engagement_score"] = None
    return out
