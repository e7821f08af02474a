"""Move a widget's controls in the page, as a learner would, and tell whether its figure changed.

A widget's *figure* is everything it draws into: its Output and Image children (its HTML and labels when it has
neither), compared as the page holds them (an <img> source is the rendered picture's bytes). Its *controls* are
the sliders (dragged with the mouse), dropdowns, toggle buttons and checkboxes inside it.

Each control should change the figure. Some only matter in some modes (T5's bucket count does nothing while the
scheme dropdown shows Shaw's clipping) or saturate (DeBERTa's largest distance changes nothing for a short sentence
until it gets small), so a control that changed nothing gets more chances: once in every setting of every mode
control (dropdown, toggle buttons, checkbox), and a slider also at both ends of its track. Then:

* a widget none of whose controls changes its figure fails (the widget is not wired to its drawing);
* a dropdown, toggle or checkbox that changes the figure in no setting of the others fails: a learner's choice that
  never shows anything is a bug;
* a slider that never changed the figure is reported as a warning: its effect can depend on where the other sliders
  are, which a test cannot search exhaustively.

The extra search stops after ``budget`` seconds per widget; then whatever is still stuck is only warned about.
"""
from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass

from browser_lab import kernel_status

FIGURE_SELECTOR = ".widget-output, .widget-image"
FALLBACK_FIGURE_SELECTOR = ".widget-html, .widget-htmlmath, .widget-label"
CONTROL_SELECTOR = ".noUi-handle, select, .widget-toggle-buttons, .widget-checkbox input[type=checkbox]"
MAX_SETTINGS = 8  # settings tried per mode control in the second pass


def figure_fingerprint(view) -> str:
    """What the widget draws, as the page holds it: the figures' DOM, whose <img> sources are the rendered image
    bytes (matplotlib is deterministic: the same picture gives the same bytes). Cheap enough to poll."""
    return view.evaluate("""(node, [figures, fallback]) => {
      let found = [...node.querySelectorAll(figures)];
      if (!found.length) found = [...node.querySelectorAll(fallback)];
      return found.map(el => el.innerHTML).join('\\u0000');
    }""", [FIGURE_SELECTOR, FALLBACK_FIGURE_SELECTOR])


def settle(page, view, timeout: float, quiet: float = 0.6) -> str:
    """Wait until the kernel has been idle for ``quiet`` seconds and the figure no longer changes; return the
    figure's fingerprint. (A dragged slider queues one redraw per step: the figure is final only once the kernel
    has worked through them all.)"""
    deadline = time.monotonic() + timeout
    previous, idle_since = None, None
    while time.monotonic() < deadline:
        if kernel_status(page) != "idle":
            idle_since = None
        else:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= quiet:
                current = figure_fingerprint(view)
                if current == previous:
                    return current
                previous, idle_since = current, time.monotonic()
        page.wait_for_timeout(150)
    return figure_fingerprint(view)


@dataclass
class Control:
    kind: str  # slider, dropdown, toggle or checkbox
    locator: object
    label: str

    @property
    def is_mode(self) -> bool:
        return self.kind != "slider"

    def enabled(self) -> bool:
        """False while the widget disables it (e.g. the controls of a scheme that is not selected)."""
        return not self.locator.evaluate(DISABLED_JS)

    def value(self) -> str:
        if self.kind == "slider":
            return self.locator.get_attribute("aria-valuenow") or ""
        if self.kind == "dropdown":
            return self.locator.evaluate("s => s.selectedIndex >= 0 ? s.options[s.selectedIndex].text : ''")
        if self.kind == "toggle":
            return self.locator.evaluate("t => (t.querySelector('button.mod-active') || {}).textContent || ''")
        return "on" if self.locator.is_checked() else "off"

    def settings(self) -> int:
        """How many values a mode control can take (0 for a slider)."""
        if self.kind == "dropdown":
            return self.locator.evaluate("s => s.options.length")
        if self.kind == "toggle":
            return self.locator.locator("button").count()
        return 2 if self.kind == "checkbox" else 0

    def setting_names(self) -> list[str]:
        """What each value of a mode control reads like (a dropdown's options, a toggle's buttons)."""
        if self.kind == "dropdown":
            return self.locator.evaluate("s => [...s.options].map(o => o.text)")
        if self.kind == "toggle":
            return self.locator.locator("button").all_inner_texts()
        return [f"{self.label} off", f"{self.label} on"] if self.kind == "checkbox" else []

    def choose(self, index: int) -> None:
        """Set a mode control to its ``index``-th value (a disabled one cannot be set, as for a learner)."""
        if not self.enabled():
            return
        if self.kind == "dropdown":
            self.locator.select_option(index=index)
        elif self.kind == "toggle":
            self.locator.locator("button").nth(index).click()
        elif self.locator.is_checked() != bool(index):
            self.locator.click()

    def move(self, page, where: str = "step") -> tuple[str, str]:
        """Change the control's value the way a learner does; return (before, after). A slider is dragged a third
        of its track (``where="step"``) or to one end (``"min"``, ``"max"``)."""
        before = self.value()
        if self.kind == "slider":
            _drag(page, self.locator, where)
        elif self.kind in ("dropdown", "toggle"):
            count = self.settings()
            current = (self.locator.evaluate("s => s.selectedIndex") if self.kind == "dropdown" else
                       self.locator.evaluate("t => [...t.querySelectorAll('button')].findIndex("
                                             "b => b.classList.contains('mod-active'))"))
            self.choose((current + 1) % count)
        else:
            self.locator.click()
        return before, self.value()


def _drag(page, handle, where: str = "step") -> None:
    """Drag a noUiSlider handle a third of the track away, or to one end (arrow keys if the drag did not move it)."""
    before = handle.get_attribute("aria-valuenow")
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    track = handle.locator("xpath=ancestor::div[contains(@class, 'noUi-base')]").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    fraction = (x - track["x"]) / max(track["width"], 1.0)
    goal = {"min": -0.05, "max": 1.05}.get(where, fraction + 0.3 if fraction < 0.5 else fraction - 0.3)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(track["x"] + track["width"] * goal, y, steps=8)
    page.mouse.up()
    page.wait_for_timeout(200)
    if handle.get_attribute("aria-valuenow") == before:
        handle.focus()
        key = {"min": "Home", "max": "End"}.get(where, "ArrowRight" if fraction < 0.5 else "ArrowLeft")
        for _ in range(1 if where != "step" else 3):
            handle.press(key)


DISABLED_JS = "el => !!el.closest('[disabled]') || !!el.disabled || !!el.querySelector('button[disabled]')"


def find_controls(view) -> list[Control]:
    """The widget's enabled controls with more than one value, in page order."""
    found = []
    elements = view.locator(CONTROL_SELECTOR)
    for i in range(elements.count()):
        element = elements.nth(i)
        kind, label, disabled = element.evaluate("""el => {
          const kind = el.classList.contains('noUi-handle') ? 'slider' : el.tagName === 'SELECT' ? 'dropdown'
                     : el.classList.contains('widget-toggle-buttons') ? 'toggle' : 'checkbox';
          const box = el.closest('.widget-inline-hbox, .widget-checkbox');
          const labels = box ? [...box.querySelectorAll('.widget-label, .widget-label-basic')] : [];
          const label = labels.map(l => l.textContent.replace(/\u200b/g, '').trim()).find(t => t) || '';
          return [kind, label,
                  !!el.closest('[disabled]') || !!el.disabled || !!el.querySelector('button[disabled]')];
        }""")
        if disabled or not element.is_visible():
            continue
        control = Control(kind, element, f"{kind} {label!r}")
        if control.kind == "slider" or control.settings() > 1:
            found.append(control)
    return found


@dataclass
class ControlMove:
    control: str
    before: str
    after: str
    figure_changed: bool
    setting: str = ""  # the mode it needed, when it changed nothing in the first pass

    def describe(self) -> str:
        verdict = "figure changed" if self.figure_changed else "FIGURE DID NOT CHANGE"
        return f"{self.control}: {self.before} -> {self.after}: {verdict}" + (
            f" (with {self.setting})" if self.setting else "")


def _try(page, view, control: Control, timeout: float, where: str = "step") -> ControlMove | None:
    if not control.enabled():  # the mode chosen by another control turned it off: nothing a learner can move
        return None
    baseline = settle(page, view, timeout)
    before, after = control.move(page, where)
    if before == after:
        return None
    reaction_deadline = time.monotonic() + 3.0  # the message reaches the kernel: busy, or already redrawn
    while (time.monotonic() < reaction_deadline and kernel_status(page) == "idle"
           and figure_fingerprint(view) == baseline):
        page.wait_for_timeout(100)
    move = ControlMove(control.label, before, after, settle(page, view, timeout) != baseline)
    print(f"  {move.describe()}", file=sys.stderr, flush=True)  # shown by pytest when the chapter fails
    return move


@dataclass
class ControlReport:
    moves: list[ControlMove]
    stuck: list[Control]  # moved, but the figure never changed
    out_of_time: bool = False  # the search stopped at its budget

    @property
    def problems(self) -> list[str]:
        found = []
        if self.moves and not any(m.figure_changed for m in self.moves):
            found.append("none of its controls changes its figure")
        if not self.out_of_time:  # a search cut short is no evidence against a control
            found += [f"its {c.label} changes the figure in no setting of the widget's other controls"
                      for c in self.stuck if c.is_mode]
        return found

    @property
    def warnings(self) -> list[str]:
        return [f"its {c.label} never changed the figure (saturated where the other sliders stood, or not wired?)"
                for c in self.stuck if not c.is_mode or self.out_of_time] + (
            ["the search for settings that make its controls work stopped at its time budget"]
            if self.out_of_time and self.stuck else [])


def _words(text: str) -> set[str]:
    """Lower-case words of a label, less the control kinds: what relates a slider to a mode by name."""
    return set(re.findall(r"[a-z0-9]{2,}", text.lower())) - {"slider", "dropdown", "toggle", "checkbox", "of"}


def move_controls(page, view, timeout: float = 30.0, budget: float = 90.0) -> ControlReport:
    """Move every control of ``view`` and report which changed its figure (see the module's docstring).

    1. each control once, as the widget starts;
    2. those that changed nothing, once in every setting of every mode control: first the controls whose label
       shares a word with the setting ("T5 buckets" when the scheme reads "T5 bucket of j - i"), then the rest;
    3. sliders still stuck, dragged to both ends, as the widget started and in each setting of step 2 that made
       some other control work (the mode they most likely belong to)."""
    controls = find_controls(view)
    moves: dict[int, ControlMove] = {}  # by the control's position in the widget
    waiting = []  # disabled at their turn by the mode an earlier move chose: tried in step 2's settings
    for i, control in enumerate(controls):
        if not control.enabled():
            waiting.append(i)
            continue
        move = _try(page, view, control, timeout)
        if move is not None:
            moves[i] = move
    deadline = time.monotonic() + budget  # for steps 2 and 3
    stuck = sorted([i for i, move in moves.items() if not move.figure_changed] + waiting,
                   key=lambda i: not controls[i].is_mode)

    def attempt(i: int, setting: str, where: str) -> None:
        if time.monotonic() > deadline:
            return
        move = _try(page, view, controls[i], timeout, where)
        if move is not None and move.figure_changed:
            move.setting = setting
            moves[i] = move
            stuck.remove(i)

    # Try the settings that look related first: "T5 buckets" most likely matters when the scheme reads "T5 ...".
    settings = [(m, k, name) for m, mode in enumerate(controls) if mode.is_mode
                for k, name in enumerate(mode.setting_names()[:MAX_SETTINGS])]
    settings.sort(key=lambda setting: -sum(bool(_words(controls[i].label) & _words(setting[2]))
                                           for i in stuck if i != setting[0]))
    useful = [(None, 0, "")]  # settings in which some control came alive
    for related in (True, False):  # first each setting with the controls named like it, then with all the others
        for m, k, name in settings:
            candidates = [i for i in stuck if i != m and bool(_words(controls[i].label) & _words(name)) == related]
            if not candidates or time.monotonic() > deadline:
                continue
            controls[m].choose(k)
            settle(page, view, timeout)  # the kernel enables this mode's controls only once it has the choice
            setting, before = f"{controls[m].label} = {controls[m].value()}", len(stuck)
            for i in candidates:
                attempt(i, setting, "step")
            if len(stuck) < before:
                useful.append((m, k, setting))
    for m, k, setting in useful:
        sliders = [i for i in stuck if i != m and controls[i].kind == "slider"]
        if not sliders or time.monotonic() > deadline:
            continue
        if m is not None:
            controls[m].choose(k)
            settle(page, view, timeout)
        for i in sliders:
            for where in ("min", "max"):
                if i in stuck:
                    attempt(i, setting, where)
    return ControlReport([moves[i] for i in sorted(moves)], [controls[i] for i in stuck],
                         time.monotonic() > deadline)
