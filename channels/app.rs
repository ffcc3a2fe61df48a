//! The mobile app channel (issue 6, in progress). Done so far: [`token`], verification of
//! the app backend's HS256 user tokens (the `phone` claim is the "one ID" link). The app's
//! use of `POST /v1/messages` and the customer WebSocket, and push notifications, follow.

pub mod token;
