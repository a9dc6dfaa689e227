//! The JSON API under `/api/v1/`: bearer tokens from `POST /api/v1/auth/login`, the same scope rules as the
//! pages, errors as `{"error":{"code","message"}}`. The OpenAPI 3.1 document is generated from these handlers.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use shanzhi_domain::org::{
    DictEntryInput, DictKind, MemberInput, PlaceInput, SocialOrgInput, UnitInput,
};
use shanzhi_domain::{Code, DictEntryId, MemberId, PlaceId, SocialOrgId, UnitId};
use shanzhi_store::dict::DictEntry;
use shanzhi_store::orgs::{
    Member, MemberFilter, PersonalNumbers, SocialOrg, SocialOrgFilter, Unit, UnitFilter,
};
use shanzhi_store::places::{Place, PlaceFilter, PlaceSummary};
use shanzhi_store::{AuditFilter, AuditRow, Page, PageReq, SessionKind, SessionStage};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::extract::{ApiPath, ApiQuery};

mod activation;
mod imports;
mod jobs;
mod pairing;
mod registration;
mod reminders;
mod roster;
use crate::auth::{Ctx, NoCtx, after_second_factor, check_password, check_totp, client_addr, load};
use crate::error::{ApiError, AppError, ErrorBody};

#[derive(OpenApi)]
#[openapi(
    info(title = "善治 shanzhi API", description = "双报到、双报告、双服务 — JSON API. Authenticate with POST /api/v1/auth/login, then send `Authorization: Bearer <token>`."),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody, DictKindName, imports::TemplateFile, imports::FileBytes))
)]
struct ApiDoc;

struct BearerAuth;
impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi());
    let router = registration::routes(router);
    let router = reminders::routes(router);
    let router = pairing::routes(router);
    let router = imports::routes(router);
    let router = jobs::routes(router);
    let router = activation::routes(router);
    let router = roster::routes(router);
    let (router, mut doc) = router
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(list_places, create_place))
        .routes(routes!(get_place, update_place))
        .routes(routes!(list_units, create_unit))
        .routes(routes!(get_unit, update_unit))
        .routes(routes!(list_members, create_member))
        .routes(routes!(get_member, update_member))
        .routes(routes!(reveal_member))
        .routes(routes!(list_social_orgs, create_social_org))
        .routes(routes!(get_social_org, update_social_org))
        .routes(routes!(list_dictionary, create_dictionary_entry))
        .routes(routes!(update_dictionary_entry))
        .routes(routes!(list_audit))
        .routes(routes!(search_communities))
        .routes(routes!(export_own_data))
        .split_for_parts();
    ErrorResponses.modify(&mut doc);
    (router, doc)
}

/// Operations that check no role (any signed-in account may call them), so they never answer 403.
const NO_ROLE_CHECK: &[(&str, &str)] = &[
    ("get", "/api/v1/me"),
    ("get", "/api/v1/me/export"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/communities"),
];

/// Documents the error statuses every operation can answer because of how requests are read, so the document
/// stays true without repeating them on each handler: 401 for every bearer operation (no, expired or ended
/// session); 403 for those that check the role; 400 for those reading a query or a body (malformed, or text the
/// text rule refuses: `invalid_characters`); 404 for those with path parameters (unknown or out-of-scope id, or
/// one that does not parse); 422 for those with a JSON body (validation) or a query (text over the length limit). Statuses a handler answers for its own
/// reasons (409, 413, 429) are declared on the handler. Runs over the finished document (after all routes).
pub(crate) struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                ("get", item.get.as_mut()),
                ("put", item.put.as_mut()),
                ("post", item.post.as_mut()),
                ("delete", item.delete.as_mut()),
                ("patch", item.patch.as_mut()),
            ];
            for (method, op) in ops {
                let Some(op) = op else { continue };
                let params = op.parameters.as_deref().unwrap_or_default();
                let has = |place: ParameterIn| {
                    params.iter().any(|p| match p {
                        RefOr::T(p) => p.parameter_in == place,
                        RefOr::Ref(_) => false,
                    })
                };
                let has_path = has(ParameterIn::Path);
                let has_query = has(ParameterIn::Query);
                let json_body = op.request_body.as_ref().is_some_and(|b| match b {
                    RefOr::T(b) => b.content.contains_key("application/json"),
                    RefOr::Ref(_) => true,
                });
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let mut add = |status: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| error(description));
                };
                if has_query || op.request_body.is_some() {
                    add(
                        "400",
                        "Malformed request (`bad_request`), or text with control characters (`invalid_characters`)",
                    );
                }
                if secured {
                    add(
                        "401",
                        "Not signed in, or the session expired or ended (`unauthenticated`, `session_expired`)",
                    );
                    if !NO_ROLE_CHECK.contains(&(method, path.as_str())) {
                        add("403", "The role may not do this (`forbidden`)");
                    }
                }
                if has_path {
                    add(
                        "404",
                        "No such record, or not in the caller's scope (`not_found`)",
                    );
                }
                if json_body || has_query {
                    add(
                        "422",
                        "Validation failed (`validation_failed` or a field's own code; per-field errors in `fields`), \
                         or a text value longer than any field accepts (`too_long`)",
                    );
                }
            }
        }
    }
}

/// A signed-in API caller.
pub struct ApiCtx(pub Ctx);

impl FromRequestParts<AppState> for ApiCtx {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match load(state, parts, SessionKind::Api).await {
            Ok(ctx) => Ok(ApiCtx(ctx)),
            Err(NoCtx::Anonymous { expired: true }) => {
                Err(ApiError(AppError::new(Code::SessionExpired)))
            }
            Err(NoCtx::Anonymous { expired: false }) | Err(NoCtx::Pending(_)) => {
                Err(ApiError(AppError::new(Code::Unauthenticated)))
            }
            Err(NoCtx::Error(e)) => Err(ApiError(e)),
        }
    }
}

/// JSON body extractor whose rejection is our JSON error. Every string in the body passes the text rule
/// (`shanzhi_domain::text`, via [`crate::extract::clean_json`]) before the handler's type is built from it.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let Ok(Json(mut value)) = Json::<serde_json::Value>::from_request(req, state).await else {
            return Err(ApiError(AppError::new(Code::BadRequest)));
        };
        crate::extract::clean_json(&mut value).map_err(AppError::new)?;
        serde_json::from_value(value)
            .map(Body)
            .map_err(|_| ApiError(AppError::new(Code::BadRequest)))
    }
}

pub(crate) type ApiResult<T> = Result<Json<T>, ApiError>;

#[derive(Deserialize, ToSchema)]
struct LoginRequest {
    /// Username or mobile number.
    username: String,
    password: String,
    /// Six-digit TOTP code; required for admin roles outside demo mode.
    #[serde(default)]
    totp: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct LoginResponse {
    pub(crate) token: String,
    /// Idle timeout in seconds.
    pub(crate) idle_timeout: i64,
}

/// Log in and receive a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
        (status = 401, description = "Wrong credentials, or a second factor is missing or wrong", body = ErrorBody),
        (status = 403, description = "Password change required, or account disabled", body = ErrorBody),
        (status = 429, description = "Account locked, or too many failed logins from this address", body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    parts: Parts,
    Body(req): Body<LoginRequest>,
) -> ApiResult<LoginResponse> {
    let outcome = check_password(&state, &req.username, &req.password, client_addr(&parts)).await?;
    let stage = match outcome.stage {
        SessionStage::TotpEnroll => {
            return Err(ApiError(AppError::new(Code::TotpEnrollmentRequired)));
        }
        SessionStage::Totp => {
            let code = req
                .totp
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .ok_or(AppError::new(Code::TotpRequired))?;
            check_totp(&state, &outcome.account, code, client_addr(&parts)).await?;
            after_second_factor(&outcome.account, true)
        }
        other => other,
    };
    if stage == SessionStage::PasswordChange {
        return Err(ApiError(AppError::new(Code::PasswordChangeRequired)));
    }
    let token = state
        .store
        .create_session(
            outcome.account.id(),
            SessionKind::Api,
            SessionStage::Full,
            outcome.first_binding,
        )
        .await?;
    Ok(Json(LoginResponse {
        token,
        idle_timeout: shanzhi_domain::password::SESSION_IDLE_MINUTES * 60,
    }))
}

/// End the current API session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])), responses((status = 204)))]
async fn logout(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
) -> Result<StatusCode, ApiError> {
    state.store.delete_session(&ctx.session.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
struct Me {
    username: String,
    display_name: String,
    role: String,
    scope_name: String,
    roles: Vec<MeRole>,
}

#[derive(Serialize, ToSchema)]
struct MeRole {
    id: i64,
    role: String,
    scope_name: String,
}

/// The signed-in account and the role in use.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])), responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(ApiCtx(ctx): ApiCtx) -> ApiResult<Me> {
    Ok(Json(Me {
        username: ctx.session.username.clone(),
        display_name: ctx.session.display_name.clone(),
        role: ctx.role().as_str().to_string(),
        scope_name: ctx.binding().scope_name.clone(),
        roles: ctx
            .bindings()
            .iter()
            .map(|(id, b)| MeRole {
                id: id.0,
                role: b.role.as_str().into(),
                scope_name: b.scope_name.clone(),
            })
            .collect(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Paging {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl Paging {
    pub(crate) fn req(&self) -> PageReq {
        PageReq::new(self.page, self.per_page)
    }
}

/// Paging of a list that is paged by key: `page` for the first pages, `after` (the `next_after` of the page
/// before) for the next page at any depth.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct KeysetPaging {
    /// 1-based page number (ignored with `after`); for the first pages only.
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// The page starts after this record: the `next_after` of the page before.
    pub after: Option<i64>,
}

impl KeysetPaging {
    pub(crate) fn req(&self) -> PageReq {
        PageReq::new(self.page, self.per_page).after(self.after)
    }
}

/// Places in scope (filter by parent, level, name).
#[utoipa::path(get, path = "/api/v1/places", tag = "places", security(("bearer" = [])), params(PlaceFilter, Paging),
    responses((status = 200, body = Page<Place>), (status = 403, body = ErrorBody)))]
async fn list_places(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiQuery(f): ApiQuery<PlaceFilter>,
    ApiQuery(p): ApiQuery<Paging>,
) -> ApiResult<Page<Place>> {
    Ok(Json(
        state.cases.places().list(&ctx.caller, &f, p.req()).await?,
    ))
}

/// One place with counts for its subtree.
#[utoipa::path(get, path = "/api/v1/places/{id}", tag = "places", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = PlaceSummary), (status = 404, body = ErrorBody)))]
async fn get_place(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<PlaceSummary> {
    Ok(Json(
        state
            .cases
            .places()
            .summary(&ctx.caller, PlaceId(id))
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
struct NewPlace {
    parent_id: i64,
    #[serde(flatten)]
    place: PlaceInput,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Created {
    pub id: i64,
}

/// Add a town, community or grid under a place in scope.
#[utoipa::path(post, path = "/api/v1/places", tag = "places", security(("bearer" = [])), request_body = NewPlace,
    responses((status = 201, body = Created), (status = 422, body = ErrorBody)))]
async fn create_place(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Body(b): Body<NewPlace>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = state
        .cases
        .places()
        .create(&ctx.caller, PlaceId(b.parent_id), &b.place)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

/// Rename a place or change its code or party organisation.
#[utoipa::path(put, path = "/api/v1/places/{id}", tag = "places", security(("bearer" = [])), params(("id" = i64, Path)), request_body = PlaceInput,
    responses((status = 200, body = PlaceSummary), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_place(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<PlaceInput>,
) -> ApiResult<PlaceSummary> {
    Ok(Json(
        state
            .cases
            .places()
            .update(&ctx.caller, PlaceId(id), &b)
            .await?,
    ))
}

/// Units in scope.
#[utoipa::path(get, path = "/api/v1/units", tag = "units", security(("bearer" = [])), params(UnitFilter, Paging),
    responses((status = 200, body = Page<Unit>), (status = 403, body = ErrorBody)))]
async fn list_units(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiQuery(f): ApiQuery<UnitFilter>,
    ApiQuery(p): ApiQuery<Paging>,
) -> ApiResult<Page<Unit>> {
    Ok(Json(
        state.cases.units().list(&ctx.caller, &f, p.req()).await?,
    ))
}

/// One unit.
#[utoipa::path(get, path = "/api/v1/units/{id}", tag = "units", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Unit), (status = 404, body = ErrorBody)))]
async fn get_unit(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Unit> {
    Ok(Json(
        state.cases.units().get(&ctx.caller, UnitId(id)).await?,
    ))
}

/// Register a unit.
#[utoipa::path(post, path = "/api/v1/units", tag = "units", security(("bearer" = [])), request_body = UnitInput,
    responses((status = 201, body = Created), (status = 422, body = ErrorBody)))]
async fn create_unit(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Body(b): Body<UnitInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = state.cases.units().create(&ctx.caller, &b).await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

/// Update a unit.
#[utoipa::path(put, path = "/api/v1/units/{id}", tag = "units", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UnitInput,
    responses((status = 200, body = Unit), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_unit(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<UnitInput>,
) -> ApiResult<Unit> {
    Ok(Json(
        state
            .cases
            .units()
            .update(&ctx.caller, UnitId(id), &b)
            .await?,
    ))
}

/// Members in scope; numbers are masked. Paged by key: follow `next_after` with `after` (deep pages cost as much
/// as the first). Without a search `total` is the rollup of the scope; with one it stops counting at 1,000
/// (`total_capped`).
#[utoipa::path(get, path = "/api/v1/members", tag = "members", security(("bearer" = [])), params(MemberFilter, KeysetPaging),
    responses((status = 200, body = Page<Member>), (status = 403, body = ErrorBody)))]
async fn list_members(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiQuery(f): ApiQuery<MemberFilter>,
    ApiQuery(p): ApiQuery<KeysetPaging>,
) -> ApiResult<Page<Member>> {
    Ok(Json(
        state.cases.members().list(&ctx.caller, &f, p.req()).await?,
    ))
}

/// One member; numbers are masked.
#[utoipa::path(get, path = "/api/v1/members/{id}", tag = "members", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Member), (status = 404, body = ErrorBody)))]
async fn get_member(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Member> {
    Ok(Json(
        state.cases.members().get(&ctx.caller, MemberId(id)).await?,
    ))
}

/// Full mobile and ID numbers, for roles that need them. Every call is audited.
#[utoipa::path(post, path = "/api/v1/members/{id}/reveal", tag = "members", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = PersonalNumbers), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn reveal_member(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<PersonalNumbers> {
    Ok(Json(
        state
            .cases
            .members()
            .reveal(&ctx.caller, MemberId(id))
            .await?,
    ))
}

/// Register a member.
#[utoipa::path(post, path = "/api/v1/members", tag = "members", security(("bearer" = [])), request_body = MemberInput,
    responses((status = 201, body = Created), (status = 422, body = ErrorBody)))]
async fn create_member(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Body(b): Body<MemberInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = state.cases.members().create(&ctx.caller, &b).await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

/// Update a member. An empty `mobile` or `id_card` keeps the stored number.
#[utoipa::path(put, path = "/api/v1/members/{id}", tag = "members", security(("bearer" = [])), params(("id" = i64, Path)), request_body = MemberInput,
    responses((status = 200, body = Member), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_member(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<MemberInput>,
) -> ApiResult<Member> {
    Ok(Json(
        state
            .cases
            .members()
            .update(&ctx.caller, MemberId(id), &b)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SocialQuery {
    q: Option<String>,
    place_id: Option<i64>,
}

/// Social organisations in scope.
#[utoipa::path(get, path = "/api/v1/social-orgs", tag = "social-orgs", security(("bearer" = [])), params(SocialQuery, Paging),
    responses((status = 200, body = Page<SocialOrg>)))]
async fn list_social_orgs(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiQuery(f): ApiQuery<SocialQuery>,
    ApiQuery(p): ApiQuery<Paging>,
) -> ApiResult<Page<SocialOrg>> {
    let f = SocialOrgFilter {
        q: f.q,
        place_id: f.place_id,
    };
    Ok(Json(
        state
            .cases
            .social_orgs()
            .list(&ctx.caller, &f, p.req())
            .await?,
    ))
}

/// One social organisation.
#[utoipa::path(get, path = "/api/v1/social-orgs/{id}", tag = "social-orgs", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = SocialOrg), (status = 404, body = ErrorBody)))]
async fn get_social_org(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<SocialOrg> {
    Ok(Json(
        state
            .cases
            .social_orgs()
            .get(&ctx.caller, SocialOrgId(id))
            .await?,
    ))
}

/// Register a social organisation.
#[utoipa::path(post, path = "/api/v1/social-orgs", tag = "social-orgs", security(("bearer" = [])), request_body = SocialOrgInput,
    responses((status = 201, body = Created), (status = 422, body = ErrorBody)))]
async fn create_social_org(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Body(b): Body<SocialOrgInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = state
        .cases
        .social_orgs()
        .save(&ctx.caller, None, &b)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

/// Update a social organisation.
#[utoipa::path(put, path = "/api/v1/social-orgs/{id}", tag = "social-orgs", security(("bearer" = [])), params(("id" = i64, Path)), request_body = SocialOrgInput,
    responses((status = 200, body = SocialOrg), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_social_org(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<SocialOrgInput>,
) -> ApiResult<SocialOrg> {
    Ok(Json(
        state
            .cases
            .social_orgs()
            .update(&ctx.caller, SocialOrgId(id), &b)
            .await?,
    ))
}

/// The dictionaries (anything else answers 404).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // documents the path parameter; `DictKind::parse` reads it
enum DictKindName {
    Skill,
    UnitKind,
    NeedCategory,
}

/// Entries of a dictionary: `skill`, `unit_kind` or `need_category`.
#[utoipa::path(get, path = "/api/v1/dictionaries/{kind}", tag = "dictionaries", security(("bearer" = [])), params(("kind" = DictKindName, Path)),
    responses((status = 200, body = Vec<DictEntry>), (status = 404, body = ErrorBody)))]
async fn list_dictionary(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(kind): ApiPath<String>,
) -> ApiResult<Vec<DictEntry>> {
    Ok(Json(
        state
            .cases
            .dict()
            .list(&ctx.caller, DictKind::parse(&kind))
            .await?,
    ))
}

/// Add a dictionary entry (district admin).
#[utoipa::path(post, path = "/api/v1/dictionaries/{kind}", tag = "dictionaries", security(("bearer" = [])), params(("kind" = DictKindName, Path)), request_body = DictEntryInput,
    responses((status = 201, body = Created), (status = 422, body = ErrorBody)))]
async fn create_dictionary_entry(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(kind): ApiPath<String>,
    Body(b): Body<DictEntryInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = state
        .cases
        .dict()
        .create(&ctx.caller, DictKind::parse(&kind), &b)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

/// Rename, re-sort or (de)activate a dictionary entry; its code cannot change.
#[utoipa::path(put, path = "/api/v1/dictionaries/entries/{id}", tag = "dictionaries", security(("bearer" = [])), params(("id" = i64, Path)), request_body = DictEntryInput,
    responses((status = 200, body = DictEntry), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_dictionary_entry(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<DictEntryInput>,
) -> ApiResult<DictEntry> {
    Ok(Json(
        state
            .cases
            .dict()
            .update(&ctx.caller, DictEntryId(id), &b)
            .await?,
    ))
}

/// The audit log (auditor only), newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(AuditFilter, Paging),
    responses((status = 200, body = Page<AuditRow>), (status = 403, body = ErrorBody)))]
async fn list_audit(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiQuery(f): ApiQuery<AuditFilter>,
    ApiQuery(p): ApiQuery<Paging>,
) -> ApiResult<Page<AuditRow>> {
    Ok(Json(
        state.cases.audit().list(&ctx.caller, &f, p.req()).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct CommunityQuery {
    /// Part of the community's name.
    q: String,
}

#[derive(Serialize, ToSchema)]
struct CommunityChoice {
    id: i64,
    code: String,
    name: String,
}

/// Communities (村居) whose name contains `q`, for any signed-in user choosing where they live (names only).
#[utoipa::path(get, path = "/api/v1/communities", tag = "places", security(("bearer" = [])), params(CommunityQuery),
    responses((status = 200, body = Vec<CommunityChoice>), (status = 401, body = ErrorBody)))]
async fn search_communities(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiQuery(q): ApiQuery<CommunityQuery>,
) -> ApiResult<Vec<CommunityChoice>> {
    let q = q.q.trim();
    if q.is_empty() {
        return Ok(Json(Vec::new()));
    }
    let found = state
        .cases
        .reference()
        .communities(&ctx.caller, q, 20)
        .await?;
    Ok(Json(
        found
            .into_iter()
            .map(|p| CommunityChoice {
                id: p.id,
                code: p.code,
                name: p.name,
            })
            .collect(),
    ))
}

/// Everything held about the signed-in person (own numbers in full). Audited.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = shanzhi_store::own_data::OwnData), (status = 401, body = ErrorBody)))]
async fn export_own_data(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
) -> ApiResult<shanzhi_store::own_data::OwnData> {
    Ok(Json(state.cases.own_data().export(&ctx.caller).await?))
}
