//! The knowledge base's question matching (issue 7, first part): features for Chinese and
//! English ([`features`]), a trained matcher with a calibrated confidence and an explicit
//! out-of-scope answer ([`matcher`]), and its evaluation on labelled data sets ([`eval`],
//! `switchboard kb-eval`). Loading, training and hot reload are [`crate::bot::service`].

pub mod entry;
pub mod eval;
pub mod features;
pub mod io;
pub mod matcher;
