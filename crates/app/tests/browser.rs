//! Browser test: a real headless Chromium, driven through chromedriver (WebDriver over plain HTTP on
//! loopback), logs in to a freshly generated demo instance as the community admin and checks that a
//! member's detail page shows the mobile number masked, never in full.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian packages `chromium`,
//! `chromium-driver`) and fails with a clear message when either is missing. A screenshot of the
//! member page is written to `$CARGO_TARGET_TMPDIR/browser-member.png`.
//!
//! Run: `cargo test -p shanzhi --test browser`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail, ensure};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const PASSWORD: &str = "Shanzhi@2026";
const USER: &str = "fanjia_admin";
/// The whole test, from `demo` to the last assertion.
const BUDGET: Duration = Duration::from_secs(60);
/// How long to wait for one element or page.
const STEP: Duration = Duration::from_secs(10);

/// A child process that is killed (and reaped) when dropped, so nothing outlives a failed test.
struct Guard {
    name: &'static str,
    child: Child,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Guard {
    fn spawn(name: &'static str, cmd: &mut Command, log: &Path) -> anyhow::Result<Self> {
        let out = std::fs::File::create(log)?;
        let err = out.try_clone()?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        Ok(Self { name, child })
    }

    /// Fails if the process has already exited (e.g. the port was taken).
    fn check_alive(&mut self, log: &Path) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited early ({status}); its output:\n{}",
                self.name,
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        Ok(())
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Polls `url` until it answers 2xx, the process dies, or `timeout` passes.
async fn wait_http(
    url: &str,
    guard: &mut Guard,
    log: &Path,
    timeout: Duration,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        guard.check_alive(log)?;
        if let Ok(r) = http.get(url).timeout(Duration::from_secs(2)).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        if started.elapsed() > timeout {
            bail!("{url} did not answer within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// True when `s` contains a run of at least `n` ASCII digits.
fn has_digit_run(s: &str, n: usize) -> bool {
    let mut run = 0;
    for b in s.bytes() {
        if b.is_ascii_digit() {
            run += 1;
            if run >= n {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// `^\d{3}\*{4}\d{4}$`
fn is_masked_mobile(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11
        && b[..3].iter().all(u8::is_ascii_digit)
        && b[3..7].iter().all(|&c| c == b'*')
        && b[7..].iter().all(u8::is_ascii_digit)
}

#[test]
fn masking_helpers() {
    assert!(is_masked_mobile("199****0004"));
    assert!(!is_masked_mobile("19900000004"));
    assert!(!is_masked_mobile("199****000"));
    assert!(!is_masked_mobile(" 199****0004"));
    assert!(has_digit_run("x19900000004y", 11));
    assert!(!has_digit_run("199****0004 310101********1234", 11));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn community_admin_sees_masked_mobile() -> anyhow::Result<()> {
    tools_present()?;
    tokio::time::timeout(BUDGET, run(steps))
        .await
        .map_err(|_| anyhow!("browser test took longer than {BUDGET:?}"))?
}

/// 报到接收 on a phone: a member registers at 375 px, the community admin accepts and places them in a grid,
/// the home unit's admin opens the receipt (回执).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_registers_and_unit_admin_sees_receipt() -> anyhow::Result<()> {
    tools_present()?;
    tokio::time::timeout(BUDGET, run(registration_steps))
        .await
        .map_err(|_| anyhow!("browser test took longer than {BUDGET:?}"))?
}

/// 激活账号 on a phone: a member imported by her unit, without an account, scans the community's QR code,
/// activates her account, sets a password and lands on the prefilled registration form; the community admin sees
/// 待接收 1 on the home page and accepts in bulk; the unit admin opens and prints the receipt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_activates_from_the_qr_page_and_registers() -> anyhow::Result<()> {
    tools_present()?;
    tokio::time::timeout(BUDGET * 2, run(activation_steps))
        .await
        .map_err(|_| anyhow!("browser test took longer than {:?}", BUDGET * 2))?
}

/// Every page every role can reach by following links from its home page, at 375 px: no horizontal scrolling,
/// no link that answers 403 or 404, and no snake_case code (an error code or a login name) in the visible text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_of_every_role_fits_a_phone() -> anyhow::Result<()> {
    tools_present()?;
    tokio::time::timeout(BUDGET * 5, run(walk_steps))
        .await
        .map_err(|_| anyhow!("the page walk took longer than {:?}", BUDGET * 5))?
}

fn tools_present() -> anyhow::Result<()> {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        ensure!(
            Path::new(tool).exists(),
            "browser test needs {tool}, which is missing: install the Debian packages `chromium` and \
             `chromium-driver` (this test fails rather than skips, so a missing browser is never \
             mistaken for a pass)"
        );
    }
    Ok(())
}

/// Starts a demo instance, chromedriver and a 375 px Chromium, then runs `steps(browser, base_url)`.
async fn run<F, Fut>(steps: F) -> anyhow::Result<()>
where
    F: FnOnce(Client, String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    // Declared first so they are removed last, after every process using them is gone.
    let data = tempfile::tempdir()?;
    let profile = tempfile::tempdir()?;
    let logs = tempfile::tempdir()?;
    let bin = env!("CARGO_BIN_EXE_shanzhi");

    let demo = Command::new(bin)
        .arg("demo")
        .arg("--data-dir")
        .arg(data.path())
        .arg("--no-serve")
        .env("SHANZHI_LOG", "warn")
        .output()
        .context("cannot run `shanzhi demo`")?;
    ensure!(
        demo.status.success(),
        "`shanzhi demo --no-serve` failed ({}):\n{}{}",
        demo.status,
        String::from_utf8_lossy(&demo.stdout),
        String::from_utf8_lossy(&demo.stderr)
    );

    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let server_log = logs.path().join("server.log");
    let mut server = Guard::spawn(
        "shanzhi serve",
        Command::new(bin)
            .arg("serve")
            .arg("--data-dir")
            .arg(data.path())
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .env("SHANZHI_LOG", "warn"),
        &server_log,
    )?;
    wait_http(&format!("{base}/healthz"), &mut server, &server_log, STEP).await?;

    let driver_port = free_port()?;
    let driver_url = format!("http://127.0.0.1:{driver_port}");
    let driver_log = logs.path().join("chromedriver.log");
    let mut driver = Guard::spawn(
        "chromedriver",
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={driver_port}"))
            .arg("--allowed-ips=127.0.0.1"),
        &driver_log,
    )?;
    wait_http(
        &format!("{driver_url}/status"),
        &mut driver,
        &driver_log,
        STEP,
    )
    .await?;

    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                format!("--user-data-dir={}", profile.path().display()),
                "--window-size=375,812",
            ],
            // Headless Chromium will not make a window narrower than 500 px, so the phone-sized
            // viewport the page is checked (and photographed) in comes from device emulation.
            "mobileEmulation": {
                "deviceMetrics": { "width": 375, "height": 812, "pixelRatio": 1.0, "touch": true },
            },
        }),
    );
    let browser = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&driver_url)
        .await
        .map_err(|e| {
            anyhow!(
                "cannot open a Chromium session through chromedriver: {e}\nchromedriver output:\n{}",
                std::fs::read_to_string(&driver_log).unwrap_or_default()
            )
        })?;

    // Always end the browser session, whatever happened in the steps.
    let outcome = steps(browser.clone(), base.clone()).await;
    let closed = browser.close().await;
    outcome.map_err(|e| {
        anyhow!(
            "{e:#}\nserver log:\n{}",
            std::fs::read_to_string(&server_log).unwrap_or_default()
        )
    })?;
    closed.context("closing the browser session")?;
    drop(driver);
    drop(server);
    Ok(())
}

/// Logs in, opens the member list, clicks the first member, checks the masking.
async fn steps(c: Client, base: String) -> anyhow::Result<()> {
    let (c, base) = (&c, base.as_str());
    login(c, base, USER).await?;

    c.goto(&format!("{base}/members")).await?;
    let first = c
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css("table.list tbody a[href^='/members/']"))
        .await
        .context("the member list shows no member link (is the user logged in?)")?;
    let href = first.attr("href").await?.unwrap_or_default();
    let member_id: i64 = href
        .trim_start_matches("/members/")
        .parse()
        .with_context(|| format!("unexpected member link {href:?}"))?;
    let list_source = c.source().await?;
    ensure!(
        !has_digit_run(&list_source, 11),
        "the member list contains a run of 11+ digits (an unmasked number?)"
    );
    first.click().await?;

    let mobile = c
        .wait()
        .at_most(STEP)
        .for_element(Locator::Id("mobile"))
        .await
        .context("member page has no #mobile")?;
    let url = c.current_url().await?;
    ensure!(
        url.path() == format!("/members/{member_id}"),
        "clicking the first member led to {url}"
    );
    let text = mobile.text().await?;
    let text = text.trim();
    ensure!(
        is_masked_mobile(text),
        "#mobile is {text:?}, expected a masked number like 199****0004"
    );

    let source = c.source().await?;
    ensure!(
        !has_digit_run(&source, 11),
        "the member page contains a run of 11+ digits (an unmasked mobile or ID number?)"
    );
    let full = reveal_mobile(base, member_id).await?;
    ensure!(
        full[..3] == text[..3] && full[7..] == text[7..],
        "masked {text} does not match the member's number"
    );
    ensure!(
        !source.contains(&full),
        "the member page contains the full mobile number"
    );

    let width = c.execute("return window.innerWidth", vec![]).await?;
    ensure!(
        width.as_i64() == Some(375),
        "viewport is {width} px wide, expected 375 (phone size)"
    );
    let png = c.screenshot().await?;
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-member.png");
    std::fs::write(&shot, &png).with_context(|| format!("writing {}", shot.display()))?;
    println!("screenshot: {}", shot.display());
    Ok(())
}

/// Signs in through the login form as `user`, after dropping the cookies of any earlier session.
async fn login(c: &Client, base: &str, user: &str) -> anyhow::Result<()> {
    c.goto(&format!("{base}/healthz")).await?;
    c.delete_all_cookies().await?;
    c.goto(&format!("{base}/login")).await?;
    let title = c.title().await?;
    ensure!(
        title.contains("登录"),
        "unexpected login page title {title:?}"
    );
    c.wait()
        .at_most(STEP)
        .for_element(Locator::Css("input[name=username]"))
        .await?
        .send_keys(user)
        .await?;
    c.find(Locator::Css("input[name=password]"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    let csrf = c
        .find(Locator::Css("input[name=_csrf]"))
        .await?
        .attr("value")
        .await?
        .unwrap_or_default();
    ensure!(!csrf.is_empty(), "login form has no _csrf value");
    c.find(Locator::Css("form button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_until_left(c, "/login").await?;
    Ok(())
}

/// Waits until the current URL contains `needle` (a form was submitted and redirected).
async fn wait_for_url(c: &Client, needle: &str) -> anyhow::Result<url::Url> {
    let started = Instant::now();
    loop {
        let url = c.current_url().await?;
        if url.as_str().contains(needle) {
            return Ok(url);
        }
        if started.elapsed() > STEP {
            let error = match c.find(Locator::Css(".error, .err:not(:empty)")).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            bail!("expected a URL with {needle:?}, still on {url}; page says: {error:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The page fits a 375 px phone: 375 px viewport, nothing wider than the screen.
async fn fits_phone(c: &Client, what: &str) -> anyhow::Result<()> {
    let width = c.execute("return window.innerWidth", vec![]).await?;
    ensure!(
        width.as_i64() == Some(375),
        "viewport is {width} px wide, expected 375 (phone size)"
    );
    let scroll = c
        .execute("return document.documentElement.scrollWidth", vec![])
        .await?;
    ensure!(
        scroll.as_i64().is_some_and(|w| w <= 375),
        "{what} is {scroll} px wide on a 375 px phone (horizontal scrolling)"
    );
    Ok(())
}

/// member_wang registers with 樊家村 on the phone form; fanjia_admin accepts into 樊家村第一网格; linye_admin (the
/// member's home unit) opens the receipt from the unit's registration overview.
async fn registration_steps(c: Client, base: String) -> anyhow::Result<()> {
    let (c, base) = (&c, base.as_str());

    // The member: search the community, tick skills and availability, submit.
    login(c, base, "member_wang").await?;
    c.goto(&format!("{base}/my/registration")).await?;
    c.wait()
        .at_most(STEP)
        .for_element(Locator::Css("input[name=q]"))
        .await
        .context("the registration page has no community search")?
        .send_keys("樊家")
        .await?;
    c.find(Locator::Css("form[role=search] button"))
        .await?
        .click()
        .await?;
    wait_for_url(c, "q=").await?;
    fits_phone(c, "the registration form").await?;
    c.find(Locator::Css("select[name=community_id]"))
        .await?
        .select_by_label("樊家村")
        .await
        .context("樊家村 is not among the search results")?;
    c.find(Locator::Css("input[name=skills]"))
        .await?
        .click()
        .await?;
    c.find(Locator::Css("input[name=intentions][value=environment]"))
        .await?
        .click()
        .await?;
    c.find(Locator::Css(
        "input[name=availability][value=weekend_morning]",
    ))
    .await?
    .click()
    .await?;
    c.find(Locator::Css("#register button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_for_url(c, "ok=submitted").await?;
    let status = c.find(Locator::Id("status")).await?.text().await?;
    ensure!(
        status.contains("樊家村") && status.contains("待接收"),
        "after submitting, the status shows {status:?}"
    );
    fits_phone(c, "the registration status").await?;
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-registration.png");
    std::fs::write(&shot, c.screenshot().await?)?;

    // The community admin: open it from the queue, place the member in a grid.
    login(c, base, "fanjia_admin").await?;
    c.goto(&format!("{base}/registrations")).await?;
    c.wait()
        .at_most(STEP)
        .for_element(Locator::Css("table.list tbody a[href^='/registrations/']"))
        .await
        .context("the review queue shows no registration")?
        .click()
        .await?;
    c.wait()
        .at_most(STEP)
        .for_element(Locator::Css("#accept select[name=grid_id]"))
        .await
        .context("the registration page has no accept form")?
        .select_by_label("樊家村第一网格")
        .await?;
    fits_phone(c, "the review page").await?;
    c.find(Locator::Css("#accept button[type=submit]"))
        .await?
        .click()
        .await?;
    let url = wait_for_url(c, "ok=accepted").await?;
    let id: i64 = url
        .path()
        .trim_start_matches("/registrations/")
        .parse()
        .with_context(|| format!("unexpected page after accepting: {url}"))?;
    let source = c.source().await?;
    ensure!(
        source.contains("已接收") && source.contains("樊家村第一网格"),
        "the accepted registration does not show its grid"
    );

    // The home unit's admin: the unit's overview links to the receipt.
    login(c, base, "linye_admin").await?;
    c.goto(&format!("{base}/units")).await?;
    c.wait()
        .at_most(STEP)
        .for_element(Locator::Css("table.list tbody a[href^='/units/']"))
        .await
        .context("the unit admin sees no unit")?
        .click()
        .await?;
    c.wait()
        .at_most(STEP)
        .for_element(Locator::Css("a[href^='/units/'][href$='/registrations']"))
        .await
        .context("the unit page has no link to its registrations")?
        .click()
        .await?;
    let receipt = format!("/registrations/{id}/receipt");
    c.wait()
        .at_most(STEP)
        .for_element(Locator::Css(&format!("a[href='{receipt}']")))
        .await
        .context("the unit's overview has no link to the receipt")?
        .click()
        .await?;
    let no = c
        .wait()
        .at_most(STEP)
        .for_element(Locator::Id("receipt-no"))
        .await?
        .text()
        .await?;
    ensure!(
        no == format!("HZ2026-{id:06}"),
        "receipt number {no:?} for registration {id}"
    );
    let text = c.find(Locator::Id("receipt")).await?.text().await?;
    ensure!(
        text.contains("樊家村第一网格") && text.contains("区林业站党支部"),
        "the receipt does not show the grid and the party org: {text:?}"
    );
    fits_phone(c, "the receipt").await?;
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-receipt.png");
    std::fs::write(&shot, c.screenshot().await?)?;
    println!("screenshot: {}", shot.display());
    print_check(c, "the receipt", "browser-receipt.pdf").await?;

    // The community admin prints the QR poster on one page too.
    login(c, base, "fanjia_admin").await?;
    c.goto(&format!("{base}/registrations/qr")).await?;
    c.wait()
        .at_most(STEP)
        .for_element(Locator::Css("#poster svg"))
        .await
        .context("the QR poster has no code")?;
    fits_phone(c, "the QR poster").await?;
    print_check(c, "the QR poster", "browser-poster.pdf").await?;
    Ok(())
}

/// Types `text` into the field named `name` of the current page.
async fn type_into(c: &Client, name: &str, text: &str) -> anyhow::Result<()> {
    c.wait()
        .at_most(STEP)
        .for_element(Locator::Css(&format!("input[name={name}]")))
        .await
        .with_context(|| format!("no field {name}"))?
        .send_keys(text)
        .await?;
    Ok(())
}

/// The demo's 陈晓梅 (区林业站, living in 樊家村, no account) activates from 樊家村's QR page and registers; the
/// community admin accepts her in bulk; 区林业站's admin prints her receipt.
async fn activation_steps(c: Client, base: String) -> anyhow::Result<()> {
    let (c, base) = (&c, base.as_str());
    c.goto(&format!("{base}/healthz")).await?;
    c.delete_all_cookies().await?;
    c.goto(&format!("{base}/join/fanjia")).await?;
    fits_phone(c, "the QR join page").await?;
    c.wait()
        .at_most(STEP)
        .for_element(Locator::Css("a[href^='/activate']"))
        .await
        .context("the join page has no link to 激活账号")?
        .click()
        .await?;
    wait_for_url(c, "/activate").await?;
    type_into(c, "name", "陈晓梅").await?;
    type_into(c, "mobile", "19890000001").await?;
    type_into(c, "factor", "080027").await?;
    fits_phone(c, "the activation form").await?;
    c.find(Locator::Css("form button[type=submit]"))
        .await?
        .click()
        .await?;
    c.wait()
        .at_most(STEP)
        .for_element(Locator::Css("input[name=password]"))
        .await
        .context("step 2 (set a password) did not appear")?
        .send_keys("Jihuo#2026")
        .await?;
    type_into(c, "confirm", "Jihuo#2026").await?;
    fits_phone(c, "the password step").await?;
    c.find(Locator::Css("form button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_for_url(c, "/my/registration").await?;
    let chosen = c
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css("select[name=community_id] option:checked"))
        .await
        .context("the registration form has no community")?
        .text()
        .await?;
    ensure!(
        chosen == "樊家村",
        "the form is prefilled with {chosen:?}, not 樊家村"
    );
    fits_phone(c, "the prefilled registration form").await?;
    c.find(Locator::Css("input[name=intentions][value=environment]"))
        .await?
        .click()
        .await?;
    c.find(Locator::Css(
        "input[name=availability][value=weekend_morning]",
    ))
    .await?
    .click()
    .await?;
    c.find(Locator::Css("#register button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_for_url(c, "ok=submitted").await?;
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-activated.png");
    std::fs::write(&shot, c.screenshot().await?)?;

    // The community admin: 待接收 1 on the home page, then 批量接收.
    login(c, base, "fanjia_admin").await?;
    c.goto(&format!("{base}/")).await?;
    let todo = c
        .wait()
        .at_most(STEP)
        .for_element(Locator::Id("todo"))
        .await?
        .text()
        .await?;
    ensure!(
        todo.contains("待接收的党员报到\n1")
            || todo.contains("待接收的党员报到1")
            || todo.contains("待接收的党员报到 1"),
        "the community admin's home shows {todo:?}, not 待接收 1"
    );
    c.goto(&format!("{base}/registrations")).await?;
    c.wait()
        .at_most(STEP)
        .for_element(Locator::Css("input[name=ids]"))
        .await
        .context("the queue has nothing to tick")?
        .click()
        .await?;
    c.find(Locator::Css("#bulk select[name=grid_id]"))
        .await?
        .select_by_label("樊家村第一网格")
        .await?;
    fits_phone(c, "the bulk accept form").await?;
    c.execute("window.confirm = function () { return true; };", vec![])
        .await?;
    c.find(Locator::Css("#bulk button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_for_url(c, "ok=bulk_accepted").await?;

    // The home unit's admin: her receipt, printed.
    login(c, base, "linye_admin").await?;
    c.goto(&format!("{base}/units")).await?;
    c.wait()
        .at_most(STEP)
        .for_element(Locator::Css("table.list tbody a[href^='/units/']"))
        .await
        .context("the unit admin sees no unit")?
        .click()
        .await?;
    c.wait()
        .at_most(STEP)
        .for_element(Locator::Css("a[href^='/units/'][href$='/registrations']"))
        .await
        .context("the unit page has no link to its registrations")?
        .click()
        .await?;
    c.wait()
        .at_most(STEP)
        .for_element(Locator::XPath(
            "//tr[contains(., '陈晓梅')]//a[contains(@href, '/receipt')]",
        ))
        .await
        .context("the unit's overview has no receipt for 陈晓梅")?
        .click()
        .await?;
    let text = c
        .wait()
        .at_most(STEP)
        .for_element(Locator::Id("receipt"))
        .await?
        .text()
        .await?;
    ensure!(
        text.contains("陈晓梅") && text.contains("樊家村第一网格"),
        "the receipt does not name her and her grid: {text:?}"
    );
    fits_phone(c, "her receipt").await?;
    print_check(c, "her receipt", "browser-activation-receipt.pdf").await?;
    Ok(())
}

/// Prints the current page to PDF through WebDriver: a PDF of exactly one page, and a print stylesheet that hides
/// the header, the menu and the print button (checked in the page's own CSS rules).
async fn print_check(c: &Client, what: &str, file: &str) -> anyhow::Result<()> {
    let hidden = c
        .execute(
            "var hides = function (sel) { \
               for (var s of document.styleSheets) { for (var r of s.cssRules) { \
                 if (r.media && r.media.mediaText.indexOf('print') >= 0) { \
                   for (var x of r.cssRules) { if (x.selectorText && x.selectorText.indexOf(sel) >= 0 \
                       && x.style.display === 'none') return true; } } } } return false; }; \
             return hides('.nav') && hides('.top') && hides('.no-print');",
            vec![],
        )
        .await?;
    ensure!(
        hidden.as_bool() == Some(true),
        "{what}: the print stylesheet does not hide the menu"
    );
    ensure!(
        !c.find_all(Locator::Css("[data-print]")).await?.is_empty(),
        "{what} has no print button"
    );
    let pdf = c
        .print(fantoccini::wd::PrintConfiguration::default())
        .await
        .with_context(|| format!("printing {what} to PDF"))?;
    ensure!(pdf.starts_with(b"%PDF"), "{what}: printing gave no PDF");
    let pages = pdf
        .windows(11)
        .enumerate()
        .filter(|(i, w)| *w == b"/Type /Page" && pdf.get(i + 11) != Some(&b's'))
        .count();
    ensure!(pages == 1, "{what} prints on {pages} pages, not one");
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(file);
    std::fs::write(&out, &pdf)?;
    println!("printed: {}", out.display());
    Ok(())
}

/// Waits until the browser is on a page whose path is no longer `path` (a form was submitted).
async fn wait_until_left(c: &Client, path: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let url = c.current_url().await?;
        if url.path() != path {
            return Ok(());
        }
        if started.elapsed() > STEP {
            let error = match c.find(Locator::Css("[role=alert]")).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            bail!("still on {path} after submitting the form; page says: {error:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The member's full mobile, through the API as the community admin (who may reveal it; audited).
async fn reveal_mobile(base: &str, member_id: i64) -> anyhow::Result<String> {
    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": USER, "password": PASSWORD}))
        .send()
        .await?
        .error_for_status()
        .context("API login")?
        .json()
        .await?;
    let token = login["token"]
        .as_str()
        .ok_or_else(|| anyhow!("API login answered without a token: {login}"))?;
    let numbers: serde_json::Value = http
        .post(format!("{base}/api/v1/members/{member_id}/reveal"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()
        .context("API reveal")?
        .json()
        .await?;
    numbers["mobile"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("reveal answered without a mobile: {numbers}"))
}

/// Pages a role may reach per walk (breadth first from 首页), so lists with many rows stay bounded.
const WALK_PAGES: usize = 30;

/// Whether a word of visible text looks like a code meant for programs: `invalid_mobile`, `fanjia_admin`.
fn looks_like_code(word: &str) -> bool {
    word.len() > 3
        && word.contains('_')
        && word.starts_with(|c: char| c.is_ascii_lowercase())
        && word.ends_with(|c: char| c.is_ascii_lowercase())
}

/// Links worth following: same-site pages, not downloads, logout or the public card.
fn walkable(href: &str) -> Option<String> {
    let href = href.split('#').next()?;
    if !href.starts_with('/')
        || href.starts_with("//")
        || href.starts_with("/static/")
        || href.starts_with("/card/")
    {
        return None;
    }
    let path = href.split('?').next()?;
    let download = [".xlsx", ".csv", ".json", ".png", ".svg", ".pdf"]
        .iter()
        .any(|ext| path.ends_with(ext));
    (!download && path != "/logout").then(|| href.to_string())
}

async fn walk_steps(c: Client, base: String) -> anyhow::Result<()> {
    let (c, base) = (&c, base.as_str());
    let mut problems: Vec<String> = Vec::new();
    let mut pages = 0;
    for user in [
        "qu_admin",
        "malu_admin",
        "fanjia_admin",
        "fanjia_grid1",
        "linye_admin",
        "member_wang",
        "resident_zhao",
        "security",
        "auditor",
    ] {
        login(c, base, user).await?;
        let mut seen = std::collections::HashSet::new();
        let mut queue = std::collections::VecDeque::from([("/".to_string(), "/".to_string())]);
        while let Some((path, from)) = queue.pop_front() {
            if seen.len() >= WALK_PAGES {
                break;
            }
            if !seen.insert(path.clone()) {
                continue;
            }
            c.goto(&format!("{base}{path}")).await?;
            pages += 1;
            if let Ok(e) = c.find(Locator::Css("p.error[data-code]")).await {
                let code = e.attr("data-code").await?.unwrap_or_default();
                problems.push(format!(
                    "{user}: {path} (linked from {from}) answers {code}"
                ));
                continue;
            }
            let scroll = c
                .execute("return document.documentElement.scrollWidth", vec![])
                .await?;
            if scroll.as_i64().is_some_and(|w| w > 375) {
                problems.push(format!("{user}: {path} is {scroll} px wide at 375 px"));
            }
            // Each role's home page and first place page, for people to look at.
            if path == "/"
                || (path.starts_with("/places/")
                    && !seen
                        .iter()
                        .any(|p: &String| p != &path && p.starts_with("/places/")))
            {
                let name = if path == "/" { "home" } else { "place" };
                let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                    .join(format!("walk-{user}-{name}.png"));
                std::fs::write(&shot, c.screenshot().await?)?;
            }
            // People manage login names on the account pages (the security admin, one's own account).
            if !path.starts_with("/account") {
                let text = c.execute("return document.body.innerText", vec![]).await?;
                let text = text.as_str().unwrap_or_default();
                let codes: Vec<&str> = text
                    .split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                    .filter(|w| looks_like_code(w))
                    .collect();
                if !codes.is_empty() {
                    problems.push(format!("{user}: {path} shows {codes:?}"));
                }
            }
            let hrefs = c
                .execute(
                    "return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))",
                    vec![],
                )
                .await?;
            for h in hrefs.as_array().into_iter().flatten() {
                if let Some(next) = h.as_str().and_then(walkable)
                    && !seen.contains(&next)
                {
                    queue.push_back((next, path.clone()));
                }
            }
        }
    }
    println!("walked {pages} pages at 375 px");
    ensure!(
        problems.is_empty(),
        "{} problems on {pages} pages:\n{}",
        problems.len(),
        problems.join("\n")
    );
    Ok(())
}
