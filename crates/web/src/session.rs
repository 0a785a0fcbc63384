//! Session extractors: the signed-in actor for pages (redirect to login) and for the API (401).

use crate::error::{ApiError, PageError};
use crate::{WebState, cookies};
use app::{Actor, AppError};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The signed-in user of a request, with the session's CSRF token and cookie token.
#[derive(Clone, Debug)]
pub struct Signed {
    pub actor: Actor,
    pub csrf_token: String,
    pub token: String,
}

impl Signed {
    /// Refuses a state-changing request whose CSRF token does not match the session's.
    pub fn check_csrf(&self, presented: Option<&str>) -> Result<(), AppError> {
        match presented {
            Some(token) if constant_time_eq(token.as_bytes(), self.csrf_token.as_bytes()) => Ok(()),
            _ => Err(AppError::CsrfRejected),
        }
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn signed(parts: &Parts, state: &WebState) -> Result<Signed, AppError> {
    let token = cookies::read(&parts.headers, cookies::SESSION).ok_or(AppError::Unauthenticated)?;
    let (actor, csrf_token) = state.app.authenticate(&token).await?;
    Ok(Signed {
        actor,
        csrf_token,
        token,
    })
}

/// The actor of a page request.
pub struct PageUser(pub Signed);

impl FromRequestParts<WebState> for PageUser {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        Ok(PageUser(signed(parts, state).await?))
    }
}

/// The actor of an API request; a state-changing method must carry `X-CSRF-Token`.
pub struct ApiUser(pub Signed);

impl FromRequestParts<WebState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let signed = signed(parts, state).await?;
        if !parts.method.is_safe() {
            let presented = parts
                .headers
                .get("x-csrf-token")
                .and_then(|value| value.to_str().ok());
            signed.check_csrf(presented)?;
        }
        Ok(ApiUser(signed))
    }
}

/// A fresh random token (login-form CSRF).
pub fn random_token() -> String {
    use rand_core::RngCore;
    let mut bytes = [0u8; 24];
    rand_core::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}
