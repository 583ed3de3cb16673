#!/usr/bin/env python3
"""Checks a rendered Tally site in headless Chromium, as a reader would see it.

Usage: python3 Tests/browser/test_site.py SITE_DIR [--screenshots DIR]

Opens index.html, month.html and every courses/*.html through file:// at a 390 px phone width and a
1280 px laptop width, and checks against SITE_DIR/leaderboard.json that:
  - the page is laid out at the device width (the viewport meta works) and nothing
    overflows sideways, long unbroken names included;
  - the leaderboard rows are visible and in rank order, with the names and XP of the JSON;
  - a name holding `<b>&"` shows as literal text (on each board that lists one);
  - index.html links to every course page, and every course page links back;
  - the browser console logged no error.
Prints one line per check and ends with `N passed, M failed`; exits 1 on any failure.

Needs Debian's chromium and chromium-driver and PyPI's selenium. The sample site of the
Swift tests is made for it: TALLY_SAMPLE_SITE=DIR swift test --filter sampleSite
"""

import json
import os
import re
import shutil
import sys
import traceback

TRICKY = '<b>&"'
VIEWPORTS = [
    # (label, width, height, scale, mobile)
    ("390", 390, 844, 2, True),
    ("1280", 1280, 800, 1, False),
]

results = {"passed": 0, "failed": 0}


def report(ok, where, what, detail=""):
    """Prints one check's line and counts it."""
    status = "PASS" if ok else "FAIL"
    results["passed" if ok else "failed"] += 1
    line = f"{status} {where}: {what}"
    if detail:
        line += f" ({detail})"
    print(line, flush=True)


def summary():
    print(f"{results['passed']} passed, {results['failed']} failed", flush=True)


def make_driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--hide-scrollbars", "--force-color-profile=srgb", "--window-size=1280,800"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    binary = next((path for path in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if path), None)
    if binary:
        options.binary_location = binary
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    # An explicit driver path keeps Selenium Manager from trying to download one.
    return webdriver.Chrome(service=Service(driver_path), options=options)


def set_viewport(driver, width, height, scale, mobile):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile})


def collapse(text):
    return re.sub(r"\s+", " ", text or "").strip()


OVERFLOW_JS = """
const limit = window.innerWidth + 0.5;
const offenders = [];
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (r.width > 0 && r.right > limit) offenders.push(el.tagName.toLowerCase() + '.' + el.className + ' right=' + Math.round(r.right));
}
for (const el of document.querySelectorAll('.name, .course-name, h1')) {
  if (el.scrollWidth > el.clientWidth + 1) offenders.push(el.tagName.toLowerCase() + '.' + el.className + ' clipped');
}
return {scrollWidth: document.documentElement.scrollWidth, bodyWidth: document.body.scrollWidth,
        innerWidth: window.innerWidth, offenders: offenders.slice(0, 5)};
"""

ROWS_JS = """
return Array.from(document.querySelectorAll('tbody tr')).map(tr => {
  const r = tr.getBoundingClientRect();
  const style = getComputedStyle(tr);
  const q = s => { const el = tr.querySelector(s); return el ? el.textContent : null; };
  return {rank: q('.rank'), name: q('.name'), xp: q('.xp'),
          visible: r.width > 0 && r.height > 0 && style.visibility !== 'hidden' && style.display !== 'none',
          boldInName: tr.querySelectorAll('.name *').length};
});
"""


def check_page(driver, site, relative, expected, label, width, shots):
    where = f"{relative} @{label}px"
    driver.get("file://" + os.path.abspath(os.path.join(site, relative)))

    layout = driver.execute_script(OVERFLOW_JS)
    report(layout["innerWidth"] == width, where, "laid out at the device width (viewport meta honoured)",
           f"innerWidth {layout['innerWidth']}")
    fits = layout["scrollWidth"] <= layout["innerWidth"] and layout["bodyWidth"] <= layout["innerWidth"]
    report(fits and not layout["offenders"], where, "no horizontal overflow",
           f"scrollWidth {layout['scrollWidth']}, innerWidth {layout['innerWidth']}"
           + (f"; sticking out: {', '.join(layout['offenders'])}" if layout["offenders"] else ""))

    rows = driver.execute_script(ROWS_JS)
    if not expected:
        body = collapse(driver.find_element("tag name", "body").text)
        empty = "No points yet this month" if relative == "month.html" else "No completions yet"
        report(not rows and empty in body, where, f"empty board says '{empty}'")
    else:
        report(len(rows) == len(expected) and all(row["visible"] for row in rows), where,
               "every leaderboard row is visible", f"{sum(r['visible'] for r in rows)} of {len(expected)} rows")
        ranks = [collapse(row["rank"]) for row in rows]
        names = [collapse(row["name"]) for row in rows]
        xps = [int(re.sub(r"[^\d-]", "", collapse(row["xp"]).replace("\u2212", "-")) or 0) for row in rows]
        in_order = (ranks == [str(entry["rank"]) for entry in expected]
                    and [int(r) for r in ranks] == sorted(int(r) for r in ranks)
                    and xps == sorted(xps, reverse=True)
                    and names == [collapse(entry["name"]) for entry in expected]
                    and xps == [entry["xp"] for entry in expected])
        report(in_order, where, "rows are in rank order with the names and XP of leaderboard.json",
               "ranks " + ",".join(ranks[:12]) + ("…" if len(ranks) > 12 else ""))

        tricky = [collapse(entry["name"]) for entry in expected if TRICKY in entry["name"]]
        if tricky:
            literal = all(name in names for name in tricky)
            no_markup = all(row["boldInName"] == 0 for row in rows)
            no_script = not driver.find_elements("css selector", "body script")
            report(literal and no_markup and no_script, where, "a name holding <b>&\" shows as literal text",
                   repr(tricky[0][:40]))
        else:
            print(f"  -  {where}: no name holding <b>&\" on this board, literal-text check not applicable", flush=True)

    if relative == "index.html":
        courses = json.load(open(os.path.join(site, "leaderboard.json"), encoding="utf-8")).get("courses", [])
        hrefs = {a.get_attribute("href") for a in driver.find_elements("css selector", "a[href]")}
        missing = [c["slug"] for c in courses
                   if "file://" + os.path.abspath(os.path.join(site, "courses", c["slug"] + ".html")) not in hrefs]
        report(not missing, where, "links to every course page", f"missing: {missing}" if missing else f"{len(courses)} links")
    else:
        back = "file://" + os.path.abspath(os.path.join(site, "index.html"))
        links = [a.get_attribute("href") for a in driver.find_elements("css selector", "a[href]")]
        report(back in links, where, "links back to the overall board")

    errors = [entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
    report(not errors, where, "no errors in the browser console", "; ".join(errors)[:300])

    if shots:
        name = relative.replace("/", "-").replace(".html", "") + f"-{label}.png"
        height = driver.execute_script("return document.documentElement.scrollHeight")
        viewport = next(v for v in VIEWPORTS if v[0] == label)
        set_viewport(driver, viewport[1], min(int(height), 4000), viewport[3], viewport[4])
        driver.save_screenshot(os.path.join(shots, name))
        set_viewport(driver, *viewport[1:])
        print(f"     screenshot {os.path.join(shots, name)}", flush=True)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 2
    site = argv[1]
    shots = None
    if "--screenshots" in argv:
        shots = argv[argv.index("--screenshots") + 1]
        os.makedirs(shots, exist_ok=True)

    try:
        with open(os.path.join(site, "leaderboard.json"), encoding="utf-8") as handle:
            board = json.load(handle)
    except (OSError, ValueError) as error:
        report(False, site, "leaderboard.json can be read", str(error))
        summary()
        return 1
    report(True, site, "leaderboard.json can be read", f"{len(board.get('students', []))} students")

    pages = [("index.html", board.get("students", [])), ("month.html", board.get("month", {}).get("students", []))]
    by_slug = {course["slug"]: course["students"] for course in board.get("courses", [])}
    course_dir = os.path.join(site, "courses")
    on_disk = sorted(name[:-5] for name in os.listdir(course_dir) if name.endswith(".html")) if os.path.isdir(course_dir) else []
    report(sorted(by_slug) == on_disk, site, "one course page per course of leaderboard.json",
           f"{len(on_disk)} pages, {len(by_slug)} courses")
    pages += [(f"courses/{slug}.html", by_slug[slug]) for slug in on_disk if slug in by_slug]

    try:
        driver = make_driver()
    except Exception as error:  # no browser, no driver: say so and fail
        report(False, site, "headless Chromium starts", str(error).splitlines()[0] if str(error) else repr(error))
        summary()
        return 1
    try:
        for label, width, height, scale, mobile in VIEWPORTS:
            set_viewport(driver, width, height, scale, mobile)
            for relative, expected in pages:
                try:
                    check_page(driver, site, relative, expected, label, width, shots)
                except Exception as error:
                    traceback.print_exc()
                    report(False, f"{relative} @{label}px", "page can be checked", repr(error)[:200])
    finally:
        driver.quit()

    summary()
    return 0 if results["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
