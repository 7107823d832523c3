//! Campaigns (create, start, pause, stop, pacing, live figures), contact
//! lists, their preview and their upload (CSV or spreadsheet).

use super::{Json, Path, Query};
use crate::auth::Caller;
use crate::centre::{ControlError, Sample};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::{now_ms, AppState};
use axum::body::Bytes;
use axum::extract::State;
use sanjeevani_contacts::{ColumnMapping, FilePreview, SheetContacts, SheetFormat};
use sanjeevani_core::{PacingMode, PacingSettings};
use sanjeevani_dialer::Control;
use sanjeevani_store::{
    Campaign, CampaignId, CampaignSettings, CampaignState, ContactCounts, ContactFile, Role,
    SkipKind,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

const MANAGERS: &[Role] = &[Role::Admin, Role::Supervisor];

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignView {
    pub id: i64,
    pub name: String,
    /// running, paused or stopped.
    pub state: String,
    pub pacing: PacingView,
    pub lists: Vec<i64>,
}

/// The pacing knobs a supervisor turns.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PacingView {
    /// preview, progressive, power, predictive, vicidial_adapt or reference.
    pub mode: String,
    pub max_lines_per_agent: f64,
    pub power_ratio: f64,
    pub abandon_target: f64,
    pub abandon_cap: f64,
}

impl From<&PacingSettings> for PacingView {
    fn from(p: &PacingSettings) -> Self {
        PacingView {
            mode: p.mode.name().replace('-', "_"),
            max_lines_per_agent: p.max_lines_per_agent,
            power_ratio: p.power_ratio,
            abandon_target: p.abandon_target,
            abandon_cap: p.abandon_cap,
        }
    }
}

impl From<&Campaign> for CampaignView {
    fn from(c: &Campaign) -> Self {
        CampaignView {
            id: c.id.0,
            name: c.name.clone(),
            state: c.state.name().into(),
            pacing: PacingView::from(&c.settings.dialer.pacing),
            lists: c.lists.iter().map(|l| l.0).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignDetail {
    #[serde(flatten)]
    pub campaign: CampaignView,
    #[schema(value_type = Object)]
    pub contacts: ContactCounts,
    /// Every setting, as `PUT /api/campaigns/{id}/settings` takes them.
    #[schema(value_type = Object)]
    pub settings: CampaignSettings,
}

/// A contact list to add to a campaign.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachList {
    /// The list's name.
    pub list: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCampaign {
    pub name: String,
    /// Names of existing contact lists.
    pub lists: Vec<String>,
    /// Full campaign settings (as in config/campaign.example.toml); default if absent.
    #[schema(value_type = Option<Object>)]
    pub settings: Option<CampaignSettings>,
}

/// Any subset of the knobs; the rest stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PacingUpdate {
    /// preview, progressive, power, predictive.
    pub mode: Option<String>,
    pub max_lines_per_agent: Option<f64>,
    pub power_ratio: Option<f64>,
    pub abandon_target: Option<f64>,
    pub abandon_cap: Option<f64>,
}

#[utoipa::path(get, path = "/api/campaigns", tag = "campaigns",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = [CampaignView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<CampaignView>>> {
    caller.require(
        &[Role::Admin, Role::Supervisor, Role::Agent],
        "list campaigns",
    )?;
    let campaigns = state.store.campaigns().await?;
    Ok(Json(campaigns.iter().map(CampaignView::from).collect()))
}

#[utoipa::path(post, path = "/api/campaigns", tag = "campaigns", request_body = CreateCampaign,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = CampaignView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<CreateCampaign>,
) -> ApiResult<(axum::http::StatusCode, Json<CampaignView>)> {
    caller.require(MANAGERS, "create campaigns")?;
    let name = request.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::invalid("name: 1 to 100 characters"));
    }
    let settings = request.settings.unwrap_or_default();
    settings
        .validate()
        .map_err(|e| ApiError::invalid(format!("settings: {e}")))?;
    let mut lists = Vec::new();
    for list in &request.lists {
        let id = state.store.list_by_name(list).await?;
        lists.push(
            id.ok_or_else(|| ApiError::not_found(format!("lists: no contact list {list:?}")))?,
        );
    }
    let id = state
        .store
        .create_campaign(name, &settings, &lists, now_ms())
        .await?;
    let campaign = state.store.campaign(id).await?;
    state
        .store
        .audit(
            &caller.user,
            "campaign_create",
            &format!("campaign/{}", id.0),
            name,
            now_ms(),
        )
        .await?;
    state
        .centre
        .spawn(&campaign)
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(CampaignView::from(&campaign)),
    ))
}

#[utoipa::path(get, path = "/api/campaigns/{id}", tag = "campaigns",
    params(("id" = i64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = CampaignDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<CampaignDetail>> {
    caller.require(MANAGERS, "read campaign details")?;
    let campaign = state.store.campaign(CampaignId(id)).await?;
    let contacts = state.store.contact_counts(campaign.id, now_ms()).await?;
    Ok(Json(CampaignDetail {
        campaign: CampaignView::from(&campaign),
        contacts,
        settings: campaign.settings,
    }))
}

#[utoipa::path(put, path = "/api/campaigns/{id}/settings", tag = "campaigns", params(("id" = i64, Path)),
    request_body(content = Object, description = "Every setting (as config/campaign.example.toml has them, in JSON); a key left out takes its default"),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = CampaignView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(settings): Json<CampaignSettings>,
) -> ApiResult<Json<CampaignView>> {
    caller.require(MANAGERS, "change campaign settings")?;
    let id = CampaignId(id);
    let mut campaign = state.store.campaign(id).await?;
    settings
        .validate()
        .map_err(|e| ApiError::invalid(format!("settings: {e}")))?;
    state.store.update_campaign_settings(id, &settings).await?;
    // Pacing changes at once (validated above: the core takes it; a campaign
    // not running here starts with what is stored); the calling window and
    // retries apply from the next lease; the call timers when the campaign
    // next starts on a node.
    let _ = state
        .centre
        .control(id, Control::SetPacing(settings.dialer.pacing))
        .await;
    let detail = serde_json::to_string(&settings).unwrap_or_default();
    state
        .store
        .audit(
            &caller.user,
            "campaign_settings",
            &format!("campaign/{}", id.0),
            &detail,
            now_ms(),
        )
        .await?;
    campaign.settings = settings;
    Ok(Json(CampaignView::from(&campaign)))
}

#[utoipa::path(post, path = "/api/campaigns/{id}/lists", tag = "campaigns", params(("id" = i64, Path)),
    request_body = AttachList,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "The campaign, now dialling the list too", body = CampaignView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn attach_list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(request): Json<AttachList>,
) -> ApiResult<Json<CampaignView>> {
    caller.require(MANAGERS, "add lists to campaigns")?;
    let id = state.store.campaign(CampaignId(id)).await?.id;
    let name = request.list.trim();
    let list = state
        .store
        .list_by_name(name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("list: no list is named {name:?}")))?;
    if !state.store.attach_list(id, list).await? {
        return Err(ApiError::conflict(format!(
            "list: campaign {} dials {name:?} already",
            id.0
        )));
    }
    state
        .store
        .audit(
            &caller.user,
            "campaign_attach_list",
            &format!("campaign/{}", id.0),
            name,
            now_ms(),
        )
        .await?;
    // A dialer that ran out of contacts looks again within a second.
    Ok(Json(CampaignView::from(&state.store.campaign(id).await?)))
}

async fn set_state(
    state: &AppState,
    caller: &Caller,
    id: i64,
    to: CampaignState,
) -> ApiResult<Json<CampaignView>> {
    caller.require(&[Role::Supervisor], "start, pause or stop campaigns")?;
    let id = CampaignId(id);
    let mut campaign = state.store.campaign(id).await?;
    state.store.set_campaign_state(id, to).await?;
    campaign.state = to;
    let control = match to {
        CampaignState::Running => Control::Start,
        CampaignState::Paused | CampaignState::Stopped => Control::Pause,
    };
    let answer = state.centre.control(id, control).await;
    if matches!(answer, Err(ControlError::NotRunning)) && to == CampaignState::Running {
        state
            .centre
            .spawn(&campaign)
            .await
            .map_err(|e| ApiError::unavailable(e.to_string()))?;
    }
    state
        .store
        .audit(
            &caller.user,
            "campaign_state",
            &format!("campaign/{}", id.0),
            to.name(),
            now_ms(),
        )
        .await?;
    Ok(Json(CampaignView::from(&campaign)))
}

#[utoipa::path(post, path = "/api/campaigns/{id}/start", tag = "campaigns", params(("id" = i64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = CampaignView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<CampaignView>> {
    set_state(&state, &caller, id, CampaignState::Running).await
}

#[utoipa::path(post, path = "/api/campaigns/{id}/pause", tag = "campaigns", params(("id" = i64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = CampaignView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<CampaignView>> {
    set_state(&state, &caller, id, CampaignState::Paused).await
}

#[utoipa::path(post, path = "/api/campaigns/{id}/stop", tag = "campaigns", params(("id" = i64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = CampaignView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<CampaignView>> {
    set_state(&state, &caller, id, CampaignState::Stopped).await
}

#[utoipa::path(put, path = "/api/campaigns/{id}/pacing", tag = "campaigns", params(("id" = i64, Path)),
    request_body = PacingUpdate,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = PacingView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_pacing(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(update): Json<PacingUpdate>,
) -> ApiResult<Json<PacingView>> {
    caller.require(&[Role::Supervisor], "change pacing")?;
    let id = CampaignId(id);
    let mut campaign = state.store.campaign(id).await?;
    let before = PacingView::from(&campaign.settings.dialer.pacing);
    let pacing = &mut campaign.settings.dialer.pacing;
    if let Some(mode) = &update.mode {
        pacing.mode = PacingMode::parse(&mode.replace('_', "-"))
            .filter(|m| {
                matches!(
                    m,
                    PacingMode::Preview
                        | PacingMode::Progressive
                        | PacingMode::Power
                        | PacingMode::Predictive
                )
            })
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "mode: {mode:?} is not preview, progressive, power or predictive"
                ))
            })?;
    }
    let fields = [
        (&update.max_lines_per_agent, &mut pacing.max_lines_per_agent),
        (&update.power_ratio, &mut pacing.power_ratio),
        (&update.abandon_target, &mut pacing.abandon_target),
        (&update.abandon_cap, &mut pacing.abandon_cap),
    ];
    for (new, field) in fields {
        if let Some(v) = new {
            *field = *v;
        }
    }
    let pacing = *pacing;
    pacing
        .validate()
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    state
        .store
        .update_campaign_settings(id, &campaign.settings)
        .await?;
    // Validated above; a campaign not running here starts with what is stored.
    let _ = state.centre.control(id, Control::SetPacing(pacing)).await;
    let after = PacingView::from(&pacing);
    let detail = serde_json::json!({ "before": before, "after": after }).to_string();
    state
        .store
        .audit(
            &caller.user,
            "pacing_change",
            &format!("campaign/{}", id.0),
            &detail,
            now_ms(),
        )
        .await?;
    tracing::info!(campaign = id.0, user = %caller.user.username, %detail, "pacing changed");
    Ok(Json(after))
}

#[utoipa::path(get, path = "/api/campaigns/{id}/live", tag = "campaigns", params(("id" = i64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "The campaign's live view (agents, calls, totals, abandon rate)", body = Object),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn live(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<sanjeevani_dialer::LiveView>> {
    caller.require(MANAGERS, "watch campaigns")?;
    state
        .centre
        .view(CampaignId(id))
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("campaign {id} is not running on this node")))
}

#[utoipa::path(get, path = "/api/campaigns/{id}/history", tag = "campaigns", params(("id" = i64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = [Sample]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<Sample>>> {
    caller.require(MANAGERS, "watch campaigns")?;
    Ok(Json(state.centre.history(CampaignId(id))))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListView {
    pub id: i64,
    pub name: String,
    pub contacts: u64,
    pub created_at: i64,
}

#[utoipa::path(get, path = "/api/lists", tag = "lists",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = [ListView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn lists(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<ListView>>> {
    caller.require(MANAGERS, "see contact lists")?;
    let lists = state.store.lists().await?;
    Ok(Json(
        lists
            .into_iter()
            .map(|l| ListView {
                id: l.id.0,
                name: l.name,
                contacts: l.contacts,
                created_at: l.created_at,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RowProblem {
    pub line: u64,
    pub field: String,
    pub reason: String,
    /// `invalid`, `duplicate` (of an earlier line, or already in the list)
    /// or `do_not_call`.
    #[schema(value_type = String)]
    pub kind: SkipKind,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UploadReport {
    pub list: i64,
    pub imported: u64,
    pub duplicate: u64,
    pub do_not_call: u64,
    pub invalid: u64,
    pub blank: u64,
    /// The first 1000 rows not imported: line, field and why.
    pub problems: Vec<RowProblem>,
    /// Words for a category or risk the import does not know, each once,
    /// with how many rows used it and the mapping line that would teach it.
    pub unknown_words: Vec<UnknownWordView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnknownWordView {
    pub field: String,
    pub word: String,
    pub rows: u64,
    pub first_line: u64,
    pub mapping_line: String,
}

/// A contact list's body: CSV (`text/csv`) or a spreadsheet (`.xlsx`,
/// `.ods` by their media types). A plain HTML form from another site can
/// send none of these. Refused in our JSON error format otherwise or when
/// it is over the size limit; the refusal waits in the value, so that the
/// handler checks the caller's role first.
pub struct ListBody(pub ApiResult<(Option<SheetFormat>, Bytes)>);

impl<S: Send + Sync> axum::extract::FromRequest<S> for ListBody {
    type Rejection = std::convert::Infallible;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<ListBody, Self::Rejection> {
        Ok(ListBody(Self::read(request, state).await))
    }
}

impl ListBody {
    async fn read<S: Send + Sync>(
        request: axum::extract::Request,
        state: &S,
    ) -> ApiResult<(Option<SheetFormat>, Bytes)> {
        let content_type = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        let format = SheetFormat::from_media_type(essence);
        if format.is_none() && !essence.eq_ignore_ascii_case("text/csv") {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_request",
                format!(
                    "the body must be sent as text/csv, {} or {}, not {content_type:?}",
                    SheetFormat::XLSX_TYPE,
                    SheetFormat::ODS_TYPE
                ),
            ));
        }
        <Bytes as axum::extract::FromRequest<S>>::from_request(request, state)
            .await
            .map(|body| (format, body))
            .map_err(|rejection| {
                ApiError::new(rejection.status(), "invalid_request", rejection.body_text())
            })
    }
}

/// Which header holds a field, when the file's own names are not found by
/// themselves. Each parameter is a header of the file; absent: found by the
/// field's usual English and Hindi names.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ColumnChoice {
    pub phone: Option<String>,
    pub name: Option<String>,
    pub language: Option<String>,
    pub category: Option<String>,
    pub risk: Option<String>,
    pub age: Option<String>,
    pub comorbidity: Option<String>,
    pub follow_up_start: Option<String>,
    pub follow_up_days: Option<String>,
    pub district: Option<String>,
    pub block: Option<String>,
    pub timezone: Option<String>,
}

impl ColumnChoice {
    fn mapping(self) -> ApiResult<ColumnMapping> {
        let mut mapping = ColumnMapping::default();
        let chosen = [
            ("phone", self.phone),
            ("name", self.name),
            ("language", self.language),
            ("category", self.category),
            ("risk", self.risk),
            ("age", self.age),
            ("comorbidity", self.comorbidity),
            ("follow_up_start", self.follow_up_start),
            ("follow_up_days", self.follow_up_days),
            ("district", self.district),
            ("block", self.block),
            ("timezone", self.timezone),
        ];
        for (field, header) in chosen {
            let Some(header) = header.filter(|h| !h.trim().is_empty()) else {
                continue;
            };
            if header.chars().count() > 200 {
                return Err(ApiError::invalid(format!(
                    "{field}: a header of at most 200 characters"
                )));
            }
            mapping
                .set_header(field, header)
                .map_err(|e| ApiError::invalid(e.to_string()))?;
        }
        Ok(mapping)
    }
}

/// How many rows a preview shows.
const PREVIEW_ROWS: usize = 5;

#[derive(Debug, Serialize, ToSchema)]
pub struct ListPreview {
    pub headers: Vec<String>,
    /// The first rows after the header, as text.
    pub rows: Vec<Vec<String>>,
    /// Each field with the header it would be read from (none: not in the file).
    pub columns: Vec<PreviewColumn>,
    /// Why the file cannot be imported as mapped (no phone column, say).
    pub problem: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewColumn {
    pub field: String,
    pub header: Option<String>,
}

impl From<FilePreview> for ListPreview {
    fn from(p: FilePreview) -> Self {
        let columns = p
            .columns
            .iter()
            .map(|(field, column)| PreviewColumn {
                field: field.to_string(),
                header: column.and_then(|i| p.headers.get(i).cloned()),
            })
            .collect();
        ListPreview {
            headers: p.headers,
            rows: p.rows,
            columns,
            problem: p.problem,
        }
    }
}

#[utoipa::path(post, path = "/api/lists/preview", tag = "lists", params(ColumnChoice),
    request_body(content = String, content_type = "text/csv",
        description = "The file to be uploaded, as for POST /api/lists/{name}/contacts: CSV or a spreadsheet (.xlsx, .ods)"),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Nothing is imported: the header row, the first rows and which column each field is read from", body = ListPreview),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, description = "The file is over the size limit", body = ErrorBody),
        (status = 415, description = "Not sent as CSV or a spreadsheet", body = ErrorBody),
        (status = 422, description = "The file cannot be read as what it was sent as", body = ErrorBody)))]
pub async fn preview(
    caller: Caller,
    Query(choice): Query<ColumnChoice>,
    ListBody(body): ListBody,
) -> ApiResult<Json<ListPreview>> {
    caller.require(MANAGERS, "upload contacts")?;
    let (format, body) = body?;
    let mapping = choice.mapping()?;
    let preview = tokio::task::spawn_blocking(move || match format {
        Some(format) => SheetContacts::preview(body.to_vec(), format, &mapping, PREVIEW_ROWS),
        None => FilePreview::of_csv(&body[..], &mapping, PREVIEW_ROWS),
    })
    .await
    .map_err(|e| ApiError::unavailable(e.to_string()))?
    .map_err(|e| ApiError::invalid(e.to_string()))?;
    Ok(Json(preview.into()))
}

#[utoipa::path(post, path = "/api/lists/{name}/contacts", tag = "lists",
    params(("name" = String, Path, description = "List name; created if new"), ColumnChoice),
    request_body(content = String, content_type = "text/csv",
        description = "CSV with a header row (phone, name, language, category, risk, age, comorbidity, follow_up_start, follow_up_days, district, block; or their usual English and Hindi names), or the same as a spreadsheet: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet (.xlsx) or application/vnd.oasis.opendocument.spreadsheet (.ods)"),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = UploadReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, description = "The file is over the size limit", body = ErrorBody),
        (status = 415, description = "Not sent as CSV or a spreadsheet", body = ErrorBody),
        (status = 422, description = "The file cannot be read as what it was sent as", body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(choice): Query<ColumnChoice>,
    ListBody(body): ListBody,
) -> ApiResult<Json<UploadReport>> {
    caller.require(MANAGERS, "upload contacts")?;
    let (format, body) = body?;
    let mapping = choice.mapping()?;
    let name = name.trim().to_string();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::invalid("name: 1 to 100 characters"));
    }
    let now = now_ms();
    let list = match state.store.list_by_name(&name).await? {
        Some(list) => list,
        None => state.store.create_list(&name, now).await?,
    };
    let mut problems = Vec::new();
    let file = match format {
        Some(format) => ContactFile::Sheet(body.to_vec(), format),
        None => ContactFile::Csv(std::io::Cursor::new(body)),
    };
    let report = sanjeevani_store::import_contacts(
        &*state.store,
        file,
        list,
        &mapping,
        now,
        |skipped| {
            if problems.len() < 1000 {
                problems.push(RowProblem {
                    line: skipped.error.line,
                    field: skipped.error.field.clone(),
                    reason: skipped.error.reason.clone(),
                    kind: skipped.kind,
                });
            }
        },
        |_| {},
    )
    .await
    .map_err(|e| match e {
        sanjeevani_store::ImportError::Store(e) => ApiError::from(e),
        csv => ApiError::invalid(csv.to_string()),
    })?;
    state
        .store
        .audit(
            &caller.user,
            "contacts_upload",
            &format!("list/{}", list.0),
            &report.to_string(),
            now,
        )
        .await?;
    Ok(Json(UploadReport {
        list: list.0,
        imported: report.imported,
        duplicate: report.duplicate,
        do_not_call: report.do_not_call,
        invalid: report.invalid,
        blank: report.blank,
        problems,
        unknown_words: report
            .unknown_words
            .iter()
            .map(|u| UnknownWordView {
                field: u.field.clone(),
                word: u.word.clone(),
                rows: u.rows,
                first_line: u.first_line,
                mapping_line: u.mapping_line(),
            })
            .collect(),
    }))
}
