//! Server-rendered pages (Chinese, phone-first, no inline scripts). Each page is an askama template struct; the
//! layout carries the signed-in user, the role in use and the navigation for that role.

pub mod account;
pub mod activation;
pub mod admin;
pub mod imports;
pub mod jobs;
pub mod login;
pub mod orgs;
pub mod pairing;
pub mod places;
pub mod registration;
pub mod reminders;
pub mod roster;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::MethodRouter;
use shanzhi_domain::Code;
use shanzhi_domain::role::Action;
use shanzhi_store::{Page, SessionKind};

use crate::AppState;
use crate::auth::{Ctx, NoCtx, load};
use crate::error::AppError;

/// A module's pages, recorded as they are added: `router()` serves them and `route_paths()` lists them for the
/// authorisation matrix test, so a page cannot be added without the test seeing it.
pub struct Routes {
    router: Router<AppState>,
    paths: Vec<&'static str>,
}

impl Routes {
    pub fn new() -> Self {
        Routes {
            router: Router::new(),
            paths: Vec::new(),
        }
    }
    pub fn route(mut self, path: &'static str, method: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, method);
        self.paths.push(path);
        self
    }
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

fn static_file(content_type: &'static str, body: &'static str) -> MethodRouter<AppState> {
    axum::routing::get(move || async move {
        (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            body,
        )
    })
}

fn all_routes() -> Routes {
    let mut all = Routes::new();
    for m in [
        login::routes(),
        activation::routes(),
        account::routes(),
        places::routes(),
        orgs::routes(),
        admin::routes(),
        registration::routes(),
        roster::routes(),
        reminders::routes(),
        pairing::routes(),
        imports::routes(),
        jobs::routes(),
        Routes::new()
            .route(
                "/static/app.css",
                static_file(
                    "text/css; charset=utf-8",
                    include_str!("../../static/app.css"),
                ),
            )
            .route(
                "/static/app.js",
                static_file(
                    "text/javascript; charset=utf-8",
                    include_str!("../../static/app.js"),
                ),
            ),
    ] {
        all.router = all.router.merge(m.router);
        all.paths.extend(m.paths);
    }
    all
}

pub fn router() -> Router<AppState> {
    all_routes()
        .router
        .fallback(|| async { UiError(AppError::new(Code::NotFound)) })
}

pub use crate::error::UiError;

/// Every page path the UI router serves (axum syntax, e.g. `/members/{id}`), in registration order.
pub fn route_paths() -> Vec<&'static str> {
    all_routes().paths
}

/// Renders a template to a response.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => UiError(AppError::internal(format!("template: {e}"))).into_response(),
    }
}

/// A page request from a fully signed-in user. Anonymous → login page; pending login step → that step.
pub struct UiCtx(pub Ctx);

impl FromRequestParts<AppState> for UiCtx {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match load(state, parts, SessionKind::Web).await {
            Ok(ctx) => Ok(UiCtx(ctx)),
            Err(NoCtx::Anonymous { expired }) => Err(Redirect::to(if expired {
                "/login?expired=1"
            } else {
                "/login"
            })
            .into_response()),
            Err(NoCtx::Pending(stage)) => {
                Err(Redirect::to(login::stage_path(stage)).into_response())
            }
            Err(NoCtx::Error(e)) => Err(UiError(e).into_response()),
        }
    }
}

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// What every signed-in page shows around its content.
pub struct Layout {
    pub title: String,
    pub user: String,
    pub role_label: &'static str,
    pub scope_name: String,
    pub csrf: String,
    /// At most five destinations (首页, three by the role's priority, 我的): fits a 360 px phone.
    pub nav: Vec<NavItem>,
    /// The role's other destinations, listed on 我的 (/account).
    pub more: Vec<NavItem>,
    pub flash: Option<&'static str>,
    /// Other role bindings the user can switch to: (id, label, current).
    pub roles: Vec<(i64, String, bool)>,
}

impl Layout {
    pub fn new(ctx: &Ctx, title: impl Into<String>, current: &str) -> Layout {
        // Destinations in order of priority; a role sees those its table allows.
        let items: [(&'static str, &'static str, Action); 13] = [
            ("/my/registration", "我的报到", Action::RegistrationSubmit),
            ("/registrations", "报到接收", Action::RegistrationView),
            ("/members", "在职党员", Action::MemberView),
            ("/units", "驻区单位", Action::UnitView),
            ("/pairings", "结对共建", Action::PairingView),
            ("/places", "地区", Action::PlaceView),
            ("/rounds", "报到轮次", Action::RoundManage),
            ("/imports", "导入导出", Action::Import),
            ("/activation-codes", "激活码", Action::ActivationIssue),
            ("/social-orgs", "社会组织", Action::SocialOrgView),
            ("/dictionaries", "字典", Action::DictionaryEdit),
            ("/accounts", "账号", Action::AccountManage),
            ("/audit", "审计日志", Action::AuditView),
        ];
        // A member's "报到接收" only leads back to 我的报到 and "在职党员" only to their own record:
        // one entry each, named for what the member sees.
        let member = ctx.role() == shanzhi_domain::role::Role::Member;
        let mut allowed: Vec<NavItem> = Vec::new();
        for (href, label, action) in items {
            if member && href == "/registrations" {
                continue;
            }
            let label = if member && href == "/members" {
                "我的信息"
            } else {
                label
            };
            if ctx.may(action) {
                allowed.push(NavItem {
                    href,
                    label,
                    active: current == href,
                });
            }
        }
        // Importers reach 后台任务 from 导入导出; the security admin, who does not import, from 我的.
        if ctx.may(Action::JobView) && !ctx.may(Action::Import) {
            allowed.push(NavItem {
                href: "/jobs",
                label: "后台任务",
                active: current == "/jobs",
            });
        }
        const IN_BAR: usize = 3;
        let more = allowed.split_off(allowed.len().min(IN_BAR));
        let in_more = more.iter().any(|n| n.active);
        let mut nav = vec![NavItem {
            href: "/",
            label: "首页",
            active: current == "/",
        }];
        nav.extend(allowed);
        nav.push(NavItem {
            href: "/account",
            label: "我的",
            active: current == "/account" || in_more,
        });
        Layout {
            title: title.into(),
            user: ctx.session.display_name.clone(),
            role_label: ctx.role().label(),
            scope_name: ctx.binding().scope_name.clone(),
            csrf: ctx.csrf.clone(),
            nav,
            more,
            flash: None,
            roles: ctx
                .bindings()
                .iter()
                .map(|(id, b)| {
                    (
                        id.0,
                        format!("{} · {}", b.role.label(), b.scope_name),
                        Some(*id) == ctx.binding_id(),
                    )
                })
                .collect(),
        }
    }
    pub fn flash(mut self, ok: Option<&str>) -> Layout {
        self.flash = ok.and_then(flash_text);
        self
    }
}

/// Known flash keys (`?ok=saved`) and their text; unknown keys show nothing.
fn flash_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "saved" => "已保存",
        "created" => "已创建",
        "password" => "密码已修改",
        "activated" => "账号已激活,以后可用手机号和密码登录",
        "unlocked" => "账号已解锁",
        "totp" => "身份验证器已绑定",
        "role" => "已切换角色",
        "submitted" => "报到已提交,请等待社区接收",
        "accepted" => "已接收并编入网格,回执已生成",
        "bulk_accepted" => "所选报到已接收并编入网格,回执已生成",
        "bulk_partial" => "部分报到未能接收(状态已变化或不属于本社区),其余已接收",
        "bulk_none" => "请先勾选要接收的报到并选择网格",
        "returned" => "已退回,党员将看到退回原因",
        "withdrawn" => "报到已撤回",
        "confirmed" => "已确认延续本轮报到",
        "transferred" => "已申请转移,等待新社区接收",
        "round_opened" => "报到轮次已开启",
        "round_closed" => "报到轮次已结束,未完成的报到已记为过期",
        "card_on" => "亮身份卡片已公开",
        "card_off" => "亮身份卡片已关闭,他人扫码将无法查看",
        // 组团报到 and 结对共建 (ui/pairing.rs)
        "unit_submitted" => "已提交,等待接收",
        "unit_accepted" => "已接收",
        "unit_returned" => "已退回",
        "unit_withdrawn" => "已撤回",
        "linked" => "已设为网格合伙人",
        "unlinked" => "已解除网格合伙人",
        "deleted" => "已删除",
        "status" => "状态已更新",
        "done" => "已标记完成",
        "graded" => "已评价",
        // 待确认成员 (ui/roster.rs)
        "roster_confirmed" => "已确认,所选党员计入本单位",
        "roster_declined" => "已不予确认,所选党员不再列入本单位(党员信息仍保留在居住社区)",
        "roster_none" => "请先勾选要处理的党员",
        // 未报到名单 and 消息 (ui/reminders.rs)
        "reminded" => "已发送报到提醒,党员将在“消息”中看到",
        "reminded_all" => "已向名单中的党员发送报到提醒",
        "reminded_some" => "已发送报到提醒;24小时内已提醒过的党员未重复提醒",
        "reminded_none" => "名单中的党员24小时内都已提醒过,未重复发送",
        "read" => "已标为已读",
        _ => return None,
    })
}

/// Links for a paginated list, keeping the other query parameters.
pub struct Pager {
    pub total: i64,
    /// `total` is a lower bound (a search stopped counting): shown as "1000+".
    pub capped: bool,
    pub page: u32,
    pub pages: u32,
    /// Paged by key: no page numbers, "下一页" continues after the last record shown.
    pub keyset: bool,
    pub prev: Option<String>,
    pub next: Option<String>,
    /// On a keyset page after the first: back to the first page.
    pub first: Option<String>,
}

fn page_link(base: &str, params: &[(&str, String)], key: &str, value: Option<String>) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    if let Some(v) = value {
        s.append_pair(key, &v);
    }
    let query = s.finish();
    if query.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{query}")
    }
}

impl Pager {
    pub fn new<T>(page: &Page<T>, base: &str, params: &[(&str, String)]) -> Pager {
        let link = |p: u32| page_link(base, params, "page", Some(p.to_string()));
        Pager {
            total: page.total,
            capped: page.total_capped,
            page: page.page,
            pages: page.pages(),
            keyset: false,
            prev: page.has_prev().then(|| link(page.page - 1)),
            next: page.has_next().then(|| link(page.page + 1)),
            first: None,
        }
    }

    /// A list paged by key: "下一页" links `after=<next_after>`; a page that was reached by key links back to
    /// the first page (`after_used`).
    pub fn keyset<T>(
        page: &Page<T>,
        base: &str,
        params: &[(&str, String)],
        after_used: bool,
    ) -> Pager {
        Pager {
            total: page.total,
            capped: page.total_capped,
            page: page.page,
            pages: page.pages(),
            keyset: true,
            prev: None,
            next: page
                .next_after
                .map(|a| page_link(base, params, "after", Some(a.to_string()))),
            first: after_used.then(|| page_link(base, params, "after", None)),
        }
    }
}

/// Redirect after a successful POST (post/redirect/get).
pub fn see_other(to: impl AsRef<str>) -> Response {
    Redirect::to(to.as_ref()).into_response()
}
