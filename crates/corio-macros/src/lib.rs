//! `#[corio::main]` and `#[corio::test]`: run an `async fn` on a corio runtime.
//!
//! An `async fn main` or `async fn` test cannot be called by the Rust runtime directly; these
//! attributes rewrite it into a plain `fn` that builds a [`corio::runtime::Runtime`] and
//! `block_on`s the original body. They accept the same options as tokio's macros, so code
//! written with `use corio as tokio;` keeps compiling:
//!
//! | option | values | default |
//! | --- | --- | --- |
//! | `flavor` | `"multi_thread"`, `"current_thread"` | `multi_thread` for `main`, `current_thread` for `test` |
//! | `worker_threads` | integer > 0, only with `multi_thread` | the runtime's default (one per core) |
//! | `crate` | path of the corio crate, as a string | `::corio` |
//!
//! ```ignore
//! #[corio::main(flavor = "multi_thread", worker_threads = 4)]
//! async fn main() -> std::io::Result<()> {
//!     let listener = corio::net::TcpListener::bind("127.0.0.1:0").await?;
//!     Ok(())
//! }
//!
//! #[corio::test]
//! async fn adds() {
//!     assert_eq!(async { 1 + 1 }.await, 2);
//! }
//! ```
//!
//! expands (roughly) to
//!
//! ```ignore
//! fn main() -> std::io::Result<()> {
//!     let body = async { /* the original body */ };
//!     ::corio::runtime::Builder::new_multi_thread()
//!         .worker_threads(4)
//!         .enable_all()
//!         .build()
//!         .expect("Failed building the Runtime")
//!         .block_on(body)
//! }
//! ```
//!
//! Mistakes (a non-`async` function, arguments, unknown options, `worker_threads` with the
//! `current_thread` flavor) are reported as compile errors pointing at the offending tokens.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{ItemFn, Lit, LitInt, LitStr, Path};

/// Marks `async fn main` (or any `async fn` without arguments) to run on a corio runtime.
///
/// Options: `flavor = "multi_thread" | "current_thread"` (default `multi_thread`),
/// `worker_threads = N` (multi-thread only), `crate = "path::to::corio"`.
/// See the [crate documentation](crate) for the expansion.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args.into(), item.into(), Kind::Main).into()
}

/// Marks an `async fn` test to run on its own corio runtime; adds `#[test]`.
///
/// Options: `flavor = "current_thread" | "multi_thread"` (default `current_thread`),
/// `worker_threads = N` (multi-thread only), `crate = "path::to::corio"`.
/// See the [crate documentation](crate) for the expansion.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args.into(), item.into(), Kind::Test).into()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Main => "main",
            Kind::Test => "test",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    MultiThread,
    CurrentThread,
}

/// The parsed attribute options.
struct Config {
    flavor: Option<(Flavor, Span)>,
    worker_threads: Option<LitInt>,
    krate: Option<Path>,
}

fn parse_config(args: TokenStream2, kind: Kind) -> syn::Result<Config> {
    let mut config = Config {
        flavor: None,
        worker_threads: None,
        krate: None,
    };
    let parser = syn::meta::parser(|meta| {
        let key = meta
            .path
            .get_ident()
            .map(|ident| ident.to_string())
            .unwrap_or_else(|| meta.path.to_token_stream().to_string());
        match key.as_str() {
            "flavor" => {
                if config.flavor.is_some() {
                    return Err(meta.error("`flavor` set multiple times"));
                }
                let lit: LitStr = meta.value()?.parse()?;
                let flavor = match lit.value().as_str() {
                    "multi_thread" => Flavor::MultiThread,
                    "current_thread" => Flavor::CurrentThread,
                    other => {
                        return Err(syn::Error::new_spanned(
                            &lit,
                            format!(
                                "no such runtime flavor `{other}`; the runtime flavors are \
                                 `\"current_thread\"` and `\"multi_thread\"`"
                            ),
                        ))
                    }
                };
                config.flavor = Some((flavor, lit.span()));
                Ok(())
            }
            "worker_threads" => {
                if config.worker_threads.is_some() {
                    return Err(meta.error("`worker_threads` set multiple times"));
                }
                let lit = match meta.value()?.parse::<Lit>()? {
                    Lit::Int(int) => int,
                    Lit::Str(s) => LitInt::new(&s.value(), s.span()),
                    other => {
                        return Err(syn::Error::new_spanned(
                            other,
                            "`worker_threads` must be a positive integer",
                        ))
                    }
                };
                match lit.base10_parse::<usize>() {
                    Ok(n) if n > 0 => {}
                    _ => {
                        return Err(syn::Error::new_spanned(
                            &lit,
                            "`worker_threads` must be a positive integer",
                        ))
                    }
                }
                config.worker_threads = Some(lit);
                Ok(())
            }
            "crate" => {
                if config.krate.is_some() {
                    return Err(meta.error("`crate` set multiple times"));
                }
                let lit: LitStr = meta.value()?.parse()?;
                let path: Path = lit.parse().map_err(|_| {
                    syn::Error::new_spanned(&lit, format!("`{}` is not a valid path", lit.value()))
                })?;
                config.krate = Some(path);
                Ok(())
            }
            "start_paused" | "unhandled_panic" | "core_threads" => Err(meta.error(format!(
                "the `{key}` option is not supported by `#[corio::{}]`",
                kind.name()
            ))),
            _ => Err(meta.error(format!(
                "unknown option `{key}`; expected one of `flavor`, `worker_threads`, `crate`"
            ))),
        }
    });
    parser.parse2(args)?;
    Ok(config)
}

fn expand(args: TokenStream2, item: TokenStream2, kind: Kind) -> TokenStream2 {
    match try_expand(args, item, kind) {
        Ok(tokens) => tokens,
        Err(err) => err.to_compile_error(),
    }
}

fn try_expand(args: TokenStream2, item: TokenStream2, kind: Kind) -> syn::Result<TokenStream2> {
    let mut input: ItemFn = syn::parse2(item)?;
    let config = parse_config(args, kind)?;

    if input.sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            input.sig.fn_token,
            "the `async` keyword is missing from the function declaration",
        ));
    }
    if !input.sig.inputs.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.sig.inputs,
            format!("the {} function cannot accept arguments", kind.name()),
        ));
    }
    if !input.sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.sig.generics,
            format!("the {} function cannot be generic", kind.name()),
        ));
    }
    if kind == Kind::Test {
        if let Some(attr) = input.attrs.iter().find(|a| is_test_attribute(a)) {
            return Err(syn::Error::new_spanned(
                attr,
                "second test attribute is supplied, consider removing it: \
                 `#[corio::test]` already adds `#[test]`",
            ));
        }
    }

    let default = match kind {
        Kind::Main => Flavor::MultiThread,
        Kind::Test => Flavor::CurrentThread,
    };
    let flavor = config.flavor.map_or(default, |(flavor, _)| flavor);
    if let (Flavor::CurrentThread, Some(n)) = (flavor, &config.worker_threads) {
        return Err(syn::Error::new_spanned(
            n,
            format!(
                "the `worker_threads` option requires the `multi_thread` runtime flavor; use \
                 `#[corio::{}(flavor = \"multi_thread\")]`",
                kind.name()
            ),
        ));
    }

    let krate = config
        .krate
        .map_or_else(|| quote!(::corio), |p| p.into_token_stream());
    let mut builder = match flavor {
        Flavor::MultiThread => quote!(#krate::runtime::Builder::new_multi_thread()),
        Flavor::CurrentThread => quote!(#krate::runtime::Builder::new_current_thread()),
    };
    if let Some(n) = &config.worker_threads {
        builder = quote!(#builder.worker_threads(#n));
    }

    input.sig.asyncness = None;
    let body = &input.block;
    let body_span = body.span();
    let block_on = quote_spanned! {body_span=>
        #[allow(clippy::expect_used)]
        {
            return #builder
                .enable_all()
                .build()
                .expect("Failed building the Runtime")
                .block_on(body);
        }
    };
    let new_body = quote! {
        {
            let body = async #body;
            #block_on
        }
    };
    input.block = syn::parse2(new_body)?;

    let test_attr = match kind {
        Kind::Test => quote!(#[::core::prelude::v1::test]),
        Kind::Main => quote!(),
    };
    Ok(quote! {
        #test_attr
        #input
    })
}

/// Whether `attr` is `#[test]` or a path ending in `test` (`#[core::prelude::v1::test]`,
/// `#[tokio::test]`, ...), which would run the function twice or conflict.
fn is_test_attribute(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|seg| seg.ident == "test")
}
