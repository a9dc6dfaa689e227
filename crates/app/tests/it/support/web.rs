//! Small HTTP helpers shared by the page and API tests: read a page, post a form with its CSRF token, sign in,
//! post JSON.

use serde_json::Value;

use super::{PASSWORD, TestApp};

pub fn csrf_of(html: &str) -> String {
    let key = "name=\"_csrf\" value=\"";
    let start = html.find(key).expect("page has a CSRF field") + key.len();
    html[start..].split('"').next().unwrap().to_string()
}

pub async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = client.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Posts a page form (with the CSRF token of `from`); returns status, location and body.
pub async fn post_form(
    client: &reqwest::Client,
    app: &TestApp,
    from: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let (_, html) = page(client, app, from).await;
    let csrf = csrf_of(&html);
    let mut form: Vec<(&str, &str)> = vec![("_csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let res = client.post(app.url(path)).form(&form).send().await.unwrap();
    let status = res.status().as_u16();
    let loc = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, loc, res.text().await.unwrap_or_default())
}

pub async fn signed_in(app: &TestApp, username: &str) -> reqwest::Client {
    let c = app.browser();
    let (status, _) = app.web_login(&c, username, PASSWORD).await;
    assert_eq!(status, 303, "login {username}");
    c
}

pub async fn post_json(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let res = app
        .api()
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}
