//! Serving one framed message: the server owns sockets and framing (see
//! [`crate::frame`]) and hands each request frame to [`process_frame`], which
//! runs the generated `IClientRPCServiceSyncProcessor` over in-memory
//! protocols and returns the reply bytes to frame and send back.
//!
//! Limits: the input protocols are configured from the frame itself, so no
//! declared string, list or message can claim more bytes than the frame has,
//! and struct nesting stops at [`MAX_NESTING`] (a `TSStatus` can contain
//! `TSStatus`es, so a hostile frame could otherwise recurse deep enough to
//! overflow the stack).
//!
//! Outcomes:
//! - a well-formed call → `Ok(reply)`; handler errors and unknown methods are
//!   `TApplicationException` replies, as thrift does it;
//! - a oneway call → `Ok(vec![])` (send nothing);
//! - a frame that cannot be read as a call → `Err(Error::MalformedMessage)`;
//!   the caller closes that connection.

use thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TCompactInputProtocol, TCompactOutputProtocol,
    TFieldIdentifier, TInputProtocol, TListIdentifier, TMapIdentifier, TMessageIdentifier,
    TMessageType, TOutputProtocol, TSetIdentifier, TStructIdentifier,
};
use thrift::server::TProcessor;
use thrift::{ProtocolError, ProtocolErrorKind, TConfiguration};

use crate::error::{Error, Result};
use crate::frame::Protocol;

/// Deepest struct/container nesting accepted in a request. IoTDB's structs
/// nest at most four levels; thrift's own default is 64.
pub const MAX_NESTING: usize = 64;

/// The called method's name in a request frame, if its header reads.
pub fn method_name(frame: &[u8], protocol: Protocol) -> Option<String> {
    use thrift::protocol::TInputProtocol;
    let config = limits_for(frame.len()).ok()?;
    let ident = match protocol {
        Protocol::Binary => {
            TBinaryInputProtocol::with_config(frame, true, config).read_message_begin()
        }
        Protocol::Compact => TCompactInputProtocol::with_config(frame, config).read_message_begin(),
    };
    ident.ok().map(|m| m.name)
}

/// Runs `processor` on one request frame (the payload, without the length
/// prefix) and returns the reply payload.
pub fn process_frame<P>(processor: &P, frame: &[u8], protocol: Protocol) -> Result<Vec<u8>>
where
    P: TProcessor + ?Sized,
{
    let config = limits_for(frame.len())?;
    let mut reply = Vec::new();
    let (outcome, read_error) = match protocol {
        Protocol::Binary => {
            let mut input = Checked::new(TBinaryInputProtocol::with_config(frame, true, config));
            let mut output = TBinaryOutputProtocol::new(&mut reply, true);
            let outcome = processor.process(&mut input, &mut output);
            (outcome, input.first_error)
        }
        Protocol::Compact => {
            let mut input = Checked::new(TCompactInputProtocol::with_config(frame, config));
            let mut output = TCompactOutputProtocol::new(&mut reply);
            let outcome = processor.process(&mut input, &mut output);
            (outcome, input.first_error)
        }
    };
    // The processor turns argument decoding errors into exception replies;
    // we want those to close the connection instead, so the read side decides.
    if let Some(e) = read_error {
        return Err(Error::MalformedMessage(e));
    }
    outcome.map_err(|source| Error::Thrift {
        action: "writing a reply",
        source,
    })?;
    Ok(reply)
}

/// Protocol limits for reading one in-memory frame of `frame_len` bytes.
fn limits_for(frame_len: usize) -> Result<TConfiguration> {
    let bound = Some(frame_len.max(1));
    TConfiguration::builder()
        .max_message_size(bound)
        .max_frame_size(bound)
        .max_string_size(bound)
        .max_container_size(bound)
        .max_recursion_depth(Some(MAX_NESTING))
        .build()
        .map_err(|source| Error::Thrift {
            action: "configuring protocol limits",
            source,
        })
}

/// Wraps an input protocol to remember the first read error (the processor
/// swallows it into an exception reply) and to accept only CALL and ONEWAY
/// messages.
struct Checked<I> {
    inner: I,
    first_error: Option<thrift::Error>,
    /// Container elements declared so far in this message.
    elements: u64,
}

/// Container elements (list, set and map entries, nested ones included) one
/// message may declare: what decoding it can make the node allocate is
/// bounded by this (tens of bytes each) as well as by the frame's size.
/// IoTDB's clients send bulk data as binary columns, so real requests stay
/// far below it.
pub const MAX_ELEMENTS_PER_MESSAGE: u64 = 8 << 20;

/// Elements the generated decoder reserves room for before reading a list
/// (see rpc/scripts/gen.sh); past it the list grows as elements arrive.
pub const PREALLOC_ELEMENTS: usize = 1024;

impl<I: TInputProtocol> Checked<I> {
    fn new(inner: I) -> Self {
        Checked {
            inner,
            first_error: None,
            elements: 0,
        }
    }

    /// A container's header, its declared elements counted (and the first
    /// error remembered).
    fn counted<T>(
        &mut self,
        header: thrift::Result<T>,
        elements: impl Fn(&T) -> i32,
    ) -> thrift::Result<T> {
        let r = header.and_then(|h| self.count(elements(&h)).map(|()| h));
        self.track(r)
    }

    /// Counts a container's declared size against the message's budget.
    fn count(&mut self, size: i32) -> thrift::Result<()> {
        self.elements = self.elements.saturating_add(size.max(0) as u64);
        if self.elements > MAX_ELEMENTS_PER_MESSAGE {
            return Err(thrift::Error::Protocol(ProtocolError::new(
                ProtocolErrorKind::SizeLimit,
                format!(
                    "the message declares more than {MAX_ELEMENTS_PER_MESSAGE} container elements"
                ),
            )));
        }
        Ok(())
    }

    fn track<T>(&mut self, result: thrift::Result<T>) -> thrift::Result<T> {
        if let Err(e) = &result {
            if self.first_error.is_none() {
                self.first_error = Some(copy_error(e));
            }
        }
        result
    }
}

/// `thrift::Error` is not `Clone`; rebuild it from its parts.
fn copy_error(e: &thrift::Error) -> thrift::Error {
    match e {
        thrift::Error::Transport(t) => {
            thrift::Error::Transport(thrift::TransportError::new(t.kind, t.message.clone()))
        }
        thrift::Error::Protocol(p) => {
            thrift::Error::Protocol(ProtocolError::new(p.kind, p.message.clone()))
        }
        thrift::Error::Application(a) => {
            thrift::Error::Application(thrift::ApplicationError::new(a.kind, a.message.clone()))
        }
        thrift::Error::User(u) => thrift::Error::Protocol(ProtocolError::new(
            ProtocolErrorKind::Unknown,
            u.to_string(),
        )),
    }
}

macro_rules! delegate {
    ($($name:ident -> $ty:ty;)*) => {
        $(fn $name(&mut self) -> thrift::Result<$ty> {
            let r = self.inner.$name();
            self.track(r)
        })*
    };
}

impl<I: TInputProtocol> TInputProtocol for Checked<I> {
    fn read_message_begin(&mut self) -> thrift::Result<TMessageIdentifier> {
        let r = self
            .inner
            .read_message_begin()
            .and_then(|ident| match ident.message_type {
                TMessageType::Call | TMessageType::OneWay => Ok(ident),
                other => Err(thrift::Error::Protocol(ProtocolError::new(
                    ProtocolErrorKind::InvalidData,
                    format!(
                        "expected a CALL or ONEWAY message, got {other:?} for {:?}",
                        ident.name
                    ),
                ))),
            });
        self.track(r)
    }

    delegate! {
        read_message_end -> ();
        read_struct_begin -> Option<TStructIdentifier>;
        read_struct_end -> ();
        read_field_begin -> TFieldIdentifier;
        read_field_end -> ();
        read_bool -> bool;
        read_bytes -> Vec<u8>;
        read_i8 -> i8;
        read_i16 -> i16;
        read_i32 -> i32;
        read_i64 -> i64;
        read_double -> f64;
        read_uuid -> uuid::Uuid;
        read_string -> String;
        read_list_end -> ();
        read_set_end -> ();
        read_map_end -> ();
        read_byte -> u8;
        skip_binary -> ();
    }

    fn read_list_begin(&mut self) -> thrift::Result<TListIdentifier> {
        let r = self.inner.read_list_begin();
        self.counted(r, |l| l.size)
    }

    fn read_set_begin(&mut self) -> thrift::Result<TSetIdentifier> {
        let r = self.inner.read_set_begin();
        self.counted(r, |s| s.size)
    }

    fn read_map_begin(&mut self) -> thrift::Result<TMapIdentifier> {
        let r = self.inner.read_map_begin();
        self.counted(r, |m| m.size.saturating_mul(2))
    }

    fn min_serialized_size(&self, field_type: thrift::protocol::TType) -> usize {
        self.inner.min_serialized_size(field_type)
    }
}

/// The generated client over boxed protocols, as [`new_client`] returns it.
pub type RpcClient = crate::generated::IClientRPCServiceSyncClient<
    Box<dyn TInputProtocol + Send>,
    Box<dyn TOutputProtocol + Send>,
>;

/// A client speaking `protocol` over a framed stream (e.g. the two halves
/// of a `TcpStream::try_clone()`); replies above `max_frame_bytes` fail.
/// Call methods through `generated::TIClientRPCServiceSyncClient`.
pub fn new_client<R, W>(
    reader: R,
    writer: W,
    protocol: Protocol,
    max_frame_bytes: usize,
) -> Result<RpcClient>
where
    R: std::io::Read + Send + 'static,
    W: std::io::Write + Send + 'static,
{
    let config = limits_for(max_frame_bytes)?;
    let reader = crate::frame::FrameReader::new(reader, max_frame_bytes);
    let writer = crate::frame::FrameWriter::new(writer);
    let (input, output): (
        Box<dyn TInputProtocol + Send>,
        Box<dyn TOutputProtocol + Send>,
    ) = match protocol {
        Protocol::Binary => (
            Box::new(TBinaryInputProtocol::with_config(reader, true, config)),
            Box::new(TBinaryOutputProtocol::new(writer, true)),
        ),
        Protocol::Compact => (
            Box::new(TCompactInputProtocol::with_config(reader, config)),
            Box::new(TCompactOutputProtocol::new(writer)),
        ),
    };
    Ok(RpcClient::new(input, output))
}

#[cfg(test)]
mod tests;
