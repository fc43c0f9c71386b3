//! One node, real processes: statements, errors, bad frames, limits,
//! shutdown, the CLI and the HTTP endpoints. Scenarios are numbered by area.

mod t10_statements;
mod t20_bad_frames;
mod t30_limits;
mod t40_restart;
mod t50_cli;
mod t56_pipe_corpus;
mod t60_http;
mod t70_sbin;
mod t80_hostile_requests;
mod t85_costly_requests;
mod t90_privileges;
mod t95_tls;
