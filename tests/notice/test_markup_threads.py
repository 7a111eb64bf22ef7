"""Bodies render the same in worker threads side by side as alone: feeds render in threads beside
the scheduler's, and a wrong rendering would be stored (notice.rendered_bodies) and served on."""

from __future__ import annotations

import threading

from notices.notice.markup import markdown_to_html

BASE = "https://park.example/"
SHORT = "Reopened ~~Monday~~ Tuesday, see www.example.org/works and | a | table |\n|---|---|\n| 1 | 2 |"
LONG = "\n\n".join(
    f"Lane {i}: ~~closed~~ open, see https://example.org/{i} and *this*.\n\n| a | b |\n|---|---|\n| {i} | x |"
    for i in range(300)
)


def test_bodies_rendered_in_threads_side_by_side_are_rendered_as_alone():
    expected = {SHORT: markdown_to_html(SHORT, base_url=BASE), LONG: markdown_to_html(LONG, base_url=BASE)}
    wrong: list[str] = []

    def render(text: str, times: int) -> None:
        for _ in range(times):
            if markdown_to_html(text, base_url=BASE) != expected[text]:
                wrong.append(text[:20])

    threads = [threading.Thread(target=render, args=(LONG, 40)) for _ in range(3)]
    threads += [threading.Thread(target=render, args=(SHORT, 3000)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
