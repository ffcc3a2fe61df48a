//! WeChat Official Account channel (issue 6, in progress): the provider's wire format.
//!
//! Done so far: [`crypto`], the message security WeChat documents (URL-verification and
//! message signatures, safe-mode AES-256-CBC), tested against WeChat's published samples.
//! The endpoints of API.md (`GET`/`POST /v1/channels/wechat`), the XML parser, passive
//! replies and the customer-service message API follow.

pub mod crypto;
