//! The public ticket form: a page at `/forms/{widget_token}` any site can link to, and the endpoint it posts
//! to. No login: the service limits it and checks its honeypot. The page speaks Chinese or English, as the
//! browser asks.

use crate::AppState;
use crate::client_ip::ClientIp;
use crate::routes::{ApiResult, Body, ErrorBody, Path, Query};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use kefu_core::ticket::Ticket;
use kefu_service::FormSubmission;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router.routes(routes!(submit))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormBody {
    name: String,
    email: String,
    subject: String,
    message: String,
    /// Leave empty: the form hides it from people, and anything in it is refused as a robot's.
    #[serde(default)]
    website: String,
}

#[derive(Serialize, ToSchema)]
pub struct FormResult {
    /// The new ticket's number, to quote in later contact.
    number: i64,
}

#[utoipa::path(post, path = "/api/v1/forms/{token}", tag = "tickets", security(()),
    params(("token" = String, Path, description = "The web inbox's widget token")),
    request_body = FormBody, responses(
    (status = 201, description = "A ticket was opened", body = FormResult),
    (status = 404, description = "No inbox with this token has its ticket form on (`not_found`)", body = ErrorBody),
    (status = 422, description = "A field is invalid, or the hidden field was filled (`invalid_input`)", body = ErrorBody),
    (status = 429, description = "Too many tickets from this address or for this inbox (`rate_limited`)", body = ErrorBody)))]
async fn submit(
    State(s): State<AppState>,
    ClientIp(client): ClientIp,
    Path(token): Path<String>,
    Body(b): Body<FormBody>,
) -> ApiResult<Response> {
    let form = FormSubmission {
        name: b.name,
        email: b.email,
        subject: b.subject,
        message: b.message,
        honeypot: b.website,
    };
    let ticket: Ticket = s.service.submit_ticket_form(&token, form, Some(client)).await?;
    Ok((StatusCode::CREATED, Json(FormResult { number: ticket.number })).into_response())
}

#[derive(Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The form page. Its words are chosen here; its script only posts the fields and shows the answer as text.
pub(crate) async fn page(
    State(s): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let info = s.service.ticket_form(&token).await?;
    let asked = q.lang.or_else(|| {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    let zh = asked.is_some_and(|l| l.trim_start().to_lowercase().starts_with("zh"));
    let t = |zh_text: &'static str, en_text: &'static str| if zh { zh_text } else { en_text };
    let html = format!(
        r#"<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {name}</title>
<style>
body{{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;background:#f5f6f8;margin:0;color:#1f2329}}
main{{max-width:34rem;margin:3rem auto;background:#fff;border-radius:12px;padding:1.5rem 1.75rem;box-shadow:0 2px 12px rgba(0,0,0,.06)}}
h1{{font-size:1.3rem;margin:.2rem 0 1rem}} label{{display:block;margin:.8rem 0 .25rem;font-weight:600;font-size:.9rem}}
input,textarea{{width:100%;box-sizing:border-box;border:1px solid #d0d3d9;border-radius:8px;padding:.55rem .7rem;font:inherit}}
textarea{{min-height:8rem}} button{{margin-top:1rem;background:{color};color:#fff;border:0;border-radius:8px;padding:.6rem 1.2rem;font:inherit;font-weight:600;cursor:pointer}}
.trap{{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}} .out{{margin-top:1rem}} .error{{color:#d03050}}
</style></head>
<body><main>
<h1>{title}</h1>
<form id="form" novalidate>
<label for="name">{l_name}</label><input id="name" name="name" required maxlength="200" autocomplete="name">
<label for="email">{l_email}</label><input id="email" name="email" type="email" required maxlength="254" autocomplete="email">
<label for="subject">{l_subject}</label><input id="subject" name="subject" required maxlength="200">
<label for="message">{l_message}</label><textarea id="message" name="message" required maxlength="10000"></textarea>
<div class="trap" aria-hidden="true"><label for="website">Website</label><input id="website" name="website" tabindex="-1" autocomplete="off"></div>
<button type="submit">{l_send}</button>
<div class="out" id="out" role="status"></div>
</form>
</main>
<script>
const form = document.getElementById('form');
const out = document.getElementById('out');
form.addEventListener('submit', async (e) => {{
  e.preventDefault();
  out.className = 'out';
  out.textContent = '';
  const body = Object.fromEntries(new FormData(form).entries());
  try {{
    const r = await fetch(location.pathname.replace('/forms/', '/api/v1/forms/'), {{
      method: 'POST', headers: {{ 'content-type': 'application/json' }}, body: JSON.stringify(body),
    }});
    const data = await r.json();
    if (r.ok) {{
      form.querySelectorAll('input, textarea, button').forEach((el) => (el.disabled = true));
      out.textContent = {thanks}.replace('{{n}}', String(data.number));
    }} else {{
      out.className = 'out error';
      out.textContent = data.error ? data.error.message : String(r.status);
    }}
  }} catch (err) {{
    out.className = 'out error';
    out.textContent = {offline};
  }}
}});
</script>
</body></html>"#,
        lang = if zh { "zh-CN" } else { "en" },
        name = escape(&info.name),
        color = escape(&info.color),
        title = t("提交工单", "Open a support ticket"),
        l_name = t("姓名", "Your name"),
        l_email = t("邮箱", "Email"),
        l_subject = t("主题", "Subject"),
        l_message = t("问题描述", "How can we help?"),
        l_send = t("提交", "Send"),
        thanks = serde_json::to_string(t(
            "已收到，您的工单号为 #{n}。我们会通过邮件回复您。",
            "Thank you. Your ticket number is #{n}; we will answer you by email."
        ))
        .expect("a string"),
        offline = serde_json::to_string(t("网络连接失败，请稍后再试。", "Could not reach us; please try again."))
            .expect("a string"),
    );
    Ok(([(header::CACHE_CONTROL, "no-cache")], Html(html)).into_response())
}
