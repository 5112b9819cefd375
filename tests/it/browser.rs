//! The HTML report in a real browser: headless Chromium renders the bundled
//! Expert Determination's `report.html`, and the tests check what a reader
//! would get: all 12 sections laid out and visible, every chart drawn (its
//! pixels in a screenshot), no network request from the page, and a printed
//! PDF of a sane length.
//!
//! Without Chromium on the PATH the tests skip and say so on stderr, unless
//! `DEIDENTIFY_REQUIRE_CHROMIUM` is set (CI sets it), which makes a missing
//! Chromium a failure.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use deidentify::{Ruleset, RunOptions, report::SECTIONS, run_expert_determination};
use serde::Deserialize;

use crate::{root, scratch};

/// Set (to anything but "" or "0"), a missing Chromium fails the tests.
const REQUIRE: &str = "DEIDENTIFY_REQUIRE_CHROMIUM";

/// The names Chromium goes by on the PATH.
const CANDIDATES: [&str; 4] = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// The browser window's width in CSS pixels (one device pixel each).
const WIDTH: u32 = 800;

/// A Chromium run that takes longer than this has hung.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Measures the rendered page and leaves the result, as JSON, in the root
/// element's `data-measure` attribute for `--dump-dom` (an attribute, so the
/// layout it measures is unchanged). Boxes are `[x, y, width, height]` in
/// page coordinates.
const MEASURE: &str = r#"(() => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.left + scrollX, r.top + scrollY, r.width, r.height]; };
  const shown = e => e.checkVisibility({checkOpacity: true, checkVisibilityCSS: true, opacityProperty: true, visibilityProperty: true});
  const out = {
    dpr: devicePixelRatio,
    page: [document.documentElement.scrollWidth, document.documentElement.scrollHeight],
    sections: [...document.querySelectorAll('section')].map(s => {
      const h = s.querySelector('h2');
      return {id: s.id, title: h ? h.textContent : null, display: getComputedStyle(s).display,
              shown: shown(s) && !!h && shown(h), rect: box(s), heading: h ? box(h) : null};
    }),
    charts: [...document.querySelectorAll('svg')].map(c => {
      const s = c.closest('section');
      return {section: s ? s.id : null, rect: box(c)};
    }),
  };
  document.documentElement.setAttribute('data-measure', JSON.stringify(out));
})();"#;

/// The path of Chromium, or `None` (after saying so) when the test skips.
fn chromium(test: &str) -> Option<&'static str> {
    static FOUND: OnceLock<Option<&'static str>> = OnceLock::new();
    let found = *FOUND.get_or_init(|| {
        CANDIDATES.into_iter().find(|name| {
            Command::new(name)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
    });
    if found.is_none() {
        let required = std::env::var(REQUIRE).is_ok_and(|v| !v.is_empty() && v != "0");
        assert!(
            !required,
            "{REQUIRE} is set but no Chromium is on the PATH (looked for {}): apt-get install chromium",
            CANDIDATES.join(", ")
        );
        // Straight to stderr: the test harness captures eprintln! of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: no Chromium on the PATH (looked for {}); \
             apt-get install chromium, or set {REQUIRE}=1 to make this a failure",
            CANDIDATES.join(", ")
        );
    }
    found
}

/// The bundled adult Expert Determination's `report.html`, with its three
/// charts (class sizes and individual risk before and after, levels per
/// attribute).
fn report_html() -> &'static str {
    static HTML: OnceLock<String> = OnceLock::new();
    HTML.get_or_init(|| {
        let ruleset = Ruleset::from_file(&root().join("datasets/adult/adult.toml")).unwrap();
        let outcome = run_expert_determination(
            &ruleset,
            &RunOptions::new(scratch("browser-run", &[]).join("out")),
            &mut |_: &str| {},
        )
        .unwrap();
        std::fs::read_to_string(&outcome.html).unwrap()
    })
}

/// What the measuring script found.
#[derive(Debug, Deserialize)]
struct Measure {
    dpr: f64,
    page: [f64; 2],
    sections: Vec<SectionBox>,
    charts: Vec<ChartBox>,
}

#[derive(Debug, Deserialize)]
struct SectionBox {
    id: String,
    title: Option<String>,
    display: String,
    shown: bool,
    rect: [f64; 4],
    heading: Option<[f64; 4]>,
}

#[derive(Debug, Deserialize)]
struct ChartBox {
    section: Option<String>,
    rect: [f64; 4],
}

/// A decoded screenshot, 8-bit RGBA.
struct Image {
    width: u32,
    height: u32,
    rgba: Vec<u8>,
}

/// An http(s)/ws(s) request in Chromium's net log.
#[derive(Debug)]
struct Request {
    url: String,
    /// The origin of the document that started it, or "not an origin" for the
    /// browser's own requests.
    initiator: String,
    network_isolation_key: String,
    /// The Chromium run that logged it.
    step: &'static str,
}

impl Request {
    /// Started by a page (the report or a frame in it), not by the browser.
    fn by_page(&self) -> bool {
        self.initiator != "not an origin" || self.network_isolation_key.contains("file://")
    }
}

/// The page as Chromium rendered, photographed and printed it.
struct Rendering {
    measure: Measure,
    screenshot: Image,
    pdf: Vec<u8>,
    /// Every http(s)/ws(s) request of the three runs.
    requests: Vec<Request>,
}

/// Runs Chromium once on `page` in `dir` with a fresh profile and a net log:
/// returns what it wrote to stdout and the requests in its net log.
fn run_chromium(
    browser: &str,
    dir: &Path,
    step: &'static str,
    page: &Path,
    args: &[String],
) -> (Vec<u8>, Vec<Request>) {
    let profile = dir.join(format!("{step}-profile"));
    let net_log = dir.join(format!("{step}-netlog.json"));
    let stdout = dir.join(format!("{step}.out"));
    let stderr = dir.join(format!("{step}.err"));
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--force-color-profile=srgb",
            // No host name resolves: nothing the page or the browser asks
            // for leaves the machine (the net log still records the request).
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--log-net-log={}", net_log.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(File::create(&stdout).unwrap())
        .stderr(File::create(&stderr).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{browser} does not start: {e}"));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium ({step}) did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let errors = std::fs::read_to_string(&stderr).unwrap_or_default();
    assert!(
        status.success(),
        "chromium ({step}) failed with {status}:\n{}",
        errors
            .lines()
            .filter(|l| !l.contains("dbus"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let requests = net_log_requests(&net_log, step)
        .unwrap_or_else(|e| panic!("chromium ({step}): net log {}: {e}", net_log.display()));
    (std::fs::read(&stdout).unwrap(), requests)
}

/// The http, https, ws and wss requests that Chromium's net log shows being
/// started (`URL_REQUEST_START_JOB` events, which Chromium logs before it
/// resolves the host, so a request that fails is still seen).
fn net_log_requests(path: &Path, step: &'static str) -> Result<Vec<Request>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let log: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .ok_or("no URL_REQUEST_START_JOB event type in its constants")?;
    let events = log["events"].as_array().ok_or("no events")?;
    let text_of = |v: &serde_json::Value| v.as_str().unwrap_or("").to_owned();
    Ok(events
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start_job))
        .filter_map(|e| {
            let params = &e["params"];
            let url = params["url"].as_str()?;
            let scheme = url.split(':').next()?.to_ascii_lowercase();
            ["http", "https", "ws", "wss"]
                .contains(&scheme.as_str())
                .then(|| Request {
                    url: url.to_owned(),
                    initiator: text_of(&params["initiator"]),
                    network_isolation_key: text_of(&params["network_isolation_key"]),
                    step,
                })
        })
        .collect())
}

/// Undoes the escaping of an attribute value in serialized HTML.
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

fn decode_png(path: &Path) -> Image {
    let mut decoder = png::Decoder::new(BufReader::new(File::open(path).unwrap()));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    let rgba = match info.color_type {
        png::ColorType::Rgba => buf,
        png::ColorType::Rgb => buf
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        other => panic!("screenshot in {other:?}, expected RGB(A)"),
    };
    Image {
        width: info.width,
        height: info.height,
        rgba,
    }
}

/// Renders `html` three ways in a fresh folder: `--dump-dom` of a copy with
/// the measuring script, `--screenshot` of the whole page, `--print-to-pdf`.
fn render(browser: &str, name: &str, html: &str) -> Rendering {
    assert!(html.contains("</body>"));
    let measured = html.replacen("</body>", &format!("<script>{MEASURE}</script></body>"), 1);
    let dir = scratch(name, &[("report.html", html), ("measure.html", &measured)]);
    let mut requests = Vec::new();

    let window = format!("--window-size={WIDTH},600");
    let (dom, seen) = run_chromium(
        browser,
        &dir,
        "measure",
        &dir.join("measure.html"),
        &[window, "--dump-dom".to_owned()],
    );
    requests.extend(seen);
    let dom = String::from_utf8_lossy(&dom);
    let json = dom
        .split_once("data-measure=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(value, _)| unescape(value))
        .expect("the measuring script left its result in the page");
    let measure: Measure = serde_json::from_str(&json).unwrap();

    // A window as tall as the page: the screenshot holds all of it, one pixel
    // per CSS pixel, so the measured boxes are its pixel coordinates.
    let png = dir.join("page.png");
    let (_, seen) = run_chromium(
        browser,
        &dir,
        "screenshot",
        &dir.join("report.html"),
        &[
            format!("--window-size={WIDTH},{}", measure.page[1].ceil()),
            format!("--screenshot={}", png.display()),
        ],
    );
    requests.extend(seen);
    let screenshot = decode_png(&png);

    let pdf = dir.join("report.pdf");
    let (_, seen) = run_chromium(
        browser,
        &dir,
        "print",
        &dir.join("report.html"),
        &[
            "--no-pdf-header-footer".to_owned(),
            format!("--print-to-pdf={}", pdf.display()),
        ],
    );
    requests.extend(seen);
    Rendering {
        measure,
        screenshot,
        pdf: std::fs::read(&pdf).unwrap(),
        requests,
    }
}

/// Positions of `needle` in `haystack`.
fn find_all<'a>(haystack: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(move |(_, w)| *w == needle)
        .map(|(i, _)| i)
}

/// The PDF's page objects (`/Type /Page`, not `/Pages`), and the page
/// count its root page tree declares (the largest `/Count`).
fn pdf_pages(pdf: &[u8]) -> (usize, Option<usize>) {
    let objects = find_all(pdf, b"/Type")
        .filter(|&i| {
            let rest = &pdf[i + 5..];
            let rest = &rest[rest.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
            rest.starts_with(b"/Page") && rest.get(5).is_none_or(|b| !b.is_ascii_alphanumeric())
        })
        .count();
    let declared = find_all(pdf, b"/Count ")
        .filter_map(|i| {
            let digits: String = pdf[i + 7..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .map(|&b| b as char)
                .collect();
            digits.parse().ok()
        })
        .max();
    (objects, declared)
}

/// The height of the PDF's first page, in points.
fn pdf_page_height(pdf: &[u8]) -> Option<f64> {
    let i = find_all(pdf, b"/MediaBox").next()?;
    let rest = String::from_utf8_lossy(&pdf[i + 9..(i + 100).min(pdf.len())]).into_owned();
    let inner = rest.split_once('[')?.1.split_once(']')?.0.to_owned();
    let numbers: Vec<f64> = inner
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    (numbers.len() == 4).then(|| numbers[3] - numbers[1])
}

/// Everything wrong with `rendering` of `html`; empty when the page is fine.
fn problems(rendering: &Rendering, html: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let m = &rendering.measure;

    // Every section once, titled, laid out with a size, shown, on the page.
    for (id, title) in SECTIONS {
        let found: Vec<&SectionBox> = m.sections.iter().filter(|s| s.id == id).collect();
        let [s] = found[..] else {
            problems.push(format!("section {id} appears {} times", found.len()));
            continue;
        };
        if s.title.as_deref() != Some(title) {
            problems.push(format!("section {id} is titled {:?}", s.title));
        }
        let [x, y, w, h] = s.rect;
        let heading = s.heading.unwrap_or_default();
        if s.display == "none" || !s.shown || w <= 0.0 || h <= 0.0 || heading[3] <= 0.0 {
            problems.push(format!(
                "section {id} is not visible (display {}, shown {}, box {:?})",
                s.display, s.shown, s.rect
            ));
        } else if x < 0.0 || y < 0.0 || x + w > m.page[0] + 0.5 {
            problems.push(format!("section {id} lies outside the page ({:?})", s.rect));
        }
    }

    // Every chart in the HTML is laid out in a section and drawn: its box in
    // the screenshot holds ink (pixels unlike the page's background) and
    // colour (the bars; text and axes are grey).
    let image = &rendering.screenshot;
    let expected_charts = html.matches("<svg").count();
    if expected_charts == 0 {
        problems.push("the report has no chart".to_owned());
    }
    if m.charts.len() != expected_charts {
        problems.push(format!(
            "{} charts rendered, {expected_charts} in the HTML",
            m.charts.len()
        ));
    }
    if m.dpr != 1.0 || image.width != WIDTH || f64::from(image.height) != m.page[1].ceil() {
        problems.push(format!(
            "the screenshot is {}x{} at device pixel ratio {}, the page {:?}: boxes and pixels do not line up",
            image.width, image.height, m.dpr, m.page
        ));
    } else {
        let pixel = |x: u32, y: u32| {
            let i = 4 * (y as usize * image.width as usize + x as usize);
            [image.rgba[i], image.rgba[i + 1], image.rgba[i + 2]]
        };
        // The page's background: the commonest colour.
        let mut counts = std::collections::HashMap::new();
        for p in image.rgba.chunks_exact(4) {
            *counts.entry([p[0], p[1], p[2]]).or_insert(0usize) += 1;
        }
        let background = counts.into_iter().max_by_key(|&(_, n)| n).unwrap().0;
        for (i, chart) in m.charts.iter().enumerate() {
            let section = chart.section.as_deref().unwrap_or("none");
            if chart.section.is_none() {
                problems.push(format!("chart {i} lies outside every section"));
            }
            let [x, y, w, h] = chart.rect;
            let (x0, y0) = (x.ceil().max(0.0) as u32, y.ceil().max(0.0) as u32);
            let (x1, y1) = ((x + w).floor() as u32, (y + h).floor() as u32);
            if x1 <= x0 || y1 <= y0 || x1 > image.width || y1 > image.height {
                problems.push(format!(
                    "chart {i} (section {section}) has no area on the screenshot ({:?})",
                    chart.rect
                ));
                continue;
            }
            let (mut ink, mut colour) = (0u64, 0u64);
            for py in y0..y1 {
                for px in x0..x1 {
                    let p = pixel(px, py);
                    if (0..3).any(|c| p[c].abs_diff(background[c]) > 32) {
                        ink += 1;
                    }
                    let (lo, hi) = (p.iter().min().unwrap(), p.iter().max().unwrap());
                    if hi - lo > 48 {
                        colour += 1;
                    }
                }
            }
            let area = u64::from(x1 - x0) * u64::from(y1 - y0);
            // At least 2% ink and 1% colour: the adult report's charts have
            // 8-17% and 6-15%; with the bars gone, their text and axes alone
            // have no colour.
            if ink * 50 < area || colour * 100 < area {
                problems.push(format!(
                    "chart {i} (section {section}) is blank: {ink} of its {area} pixels differ from the background, {colour} are coloured"
                ));
            }
        }
    }

    // The page asks for nothing over the network.
    for r in rendering.requests.iter().filter(|r| r.by_page()) {
        problems.push(format!(
            "the page requested {} ({}; initiator {})",
            r.url, r.step, r.initiator
        ));
    }

    // The PDF: as many pages as its page tree says, within bounds set by
    // the measured layout. Printed, the text column is narrower than on
    // screen (about 707 px on Letter with Chromium's default margins against
    // 768 px here), so the sections are no shorter than measured: they
    // cannot fit on fewer than (their height / a whole page) pages. Above:
    // each section starts at most one new page (they avoid page breaks
    // inside), grows at most 1.5 times with the narrower column, and gets
    // at least 0.8 of a page; plus one page for the title.
    let pdf = &rendering.pdf;
    let (pages, declared) = pdf_pages(pdf);
    let page_px = pdf_page_height(pdf).map(|pt| pt * 96.0 / 72.0);
    if !pdf.starts_with(b"%PDF-") || declared != Some(pages) || page_px.is_none() {
        problems.push(format!(
            "the PDF is malformed: {pages} page objects, page tree count {declared:?}, page height {page_px:?}"
        ));
    } else if let Some(page_px) = page_px {
        let heights: Vec<f64> = m.sections.iter().map(|s| s.rect[3]).collect();
        let lower = ((heights.iter().sum::<f64>() / page_px).floor() as usize).max(1);
        let upper = 1 + heights
            .iter()
            .map(|h| (1.5 * h / (0.8 * page_px)).ceil().max(1.0) as usize)
            .sum::<usize>();
        if !(lower..=upper).contains(&pages) {
            problems.push(format!(
                "the PDF's page count {pages} is outside {lower}..={upper}, the bounds for this layout"
            ));
        }
    }
    problems
}

#[test]
fn the_html_renders_in_headless_chromium() {
    let Some(browser) = chromium("the_html_renders_in_headless_chromium") else {
        return;
    };
    let html = report_html();
    let rendering = render(browser, "browser-report", html);
    assert_eq!(problems(&rendering, html), Vec::<String>::new());
}

/// The checks catch what they look for: a hidden section, a blank chart, a
/// request for an image, and a print stylesheet that drops most of the report.
#[test]
fn the_browser_checks_fail_on_a_hidden_section_a_blank_chart_a_request_and_a_short_print() {
    let Some(browser) = chromium(
        "the_browser_checks_fail_on_a_hidden_section_a_blank_chart_a_request_and_a_short_print",
    ) else {
        return;
    };
    let original = report_html();
    let style = "<style>#scan{display:none}#results svg *{display:none}\
                 @media print{section:not(#summary){display:none}}</style></head>";
    let html = original.replacen("</head>", style, 1).replacen(
        "</body>",
        "<img src=\"http://127.0.0.1:1/x.png\" alt=\"\"></body>",
        1,
    );
    assert!(html.contains(style) && html.contains("x.png"));
    let problems = problems(&render(browser, "browser-broken", &html), &html);
    // The image is requested in each of the three runs.
    let expected = [
        "section scan is not visible",
        "chart 0 (section results) is blank",
        "the page requested http://127.0.0.1:1/x.png (measure;",
        "the page requested http://127.0.0.1:1/x.png (screenshot;",
        "the page requested http://127.0.0.1:1/x.png (print;",
        "the PDF's page count 1 is outside",
    ];
    for e in expected {
        assert!(
            problems.iter().any(|p| p.starts_with(e)),
            "{e}: {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
}
