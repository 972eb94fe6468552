//! Hardware-token test support: a gpg-agent that allows loopback pinentry,
//! and a virtual OpenPGP card (ifd-jcecard inside pcscd) provisioned with
//! an Ed25519 signing key generated on the card.
//!
//! The card tests need `tests/token_support/setup.sh` to have installed the
//! driver; if pcscd or the virtual card cannot be reached they fail with a
//! message that says so, they never skip.
#![allow(dead_code)]

use crate::common::{gpg, Ctx};
use openpgp::packet::signature::SignatureBuilder;
use openpgp::packet::UserID;
use openpgp::serialize::SerializeInto;
use openpgp::types::{Features, HashAlgorithm, KeyFlags, SignatureType};
use openpgp::{Cert, Packet};
use openpgp_card::ocard::algorithm::{AlgorithmAttributes, Curve, EccAttributes};
use openpgp_card::ocard::crypto::EccType;
use openpgp_card::ocard::data::{TouchPolicy, UserInteractionFlag};
use openpgp_card::ocard::KeyType;
use secrecy::SecretString;
use sequoia_openpgp as openpgp;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, UNIX_EPOCH};

/// The virtual card's default PINs.
pub const USER_PIN: &str = "123456";
pub const ADMIN_PIN: &str = "12345678";

const DRIVER: &str = "/usr/lib/pcsc/drivers/ifd-jcecard.bundle/Contents/Linux/libifd_jcecard.so";
const READER_CONF: &str = "/etc/reader.conf.d/jcecard";

/// Writes gpg-agent.conf (loopback pinentry allowed) and scdaemon.conf
/// (talk to cards through pcscd, sharing them) into a GnuPG home before
/// any agent starts there.
pub fn configure_gnupg_home(home: &Path) {
    fs::write(home.join("gpg-agent.conf"), "allow-loopback-pinentry\n").unwrap();
    fs::write(home.join("scdaemon.conf"), "disable-ccid\npcsc-shared\n").unwrap();
}

/// The path of the setup script, for messages.
pub fn setup_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/token_support/setup.sh")
}

static CARD: Mutex<()> = Mutex::new(());

fn pcscd_running() -> bool {
    let pid: String = fs::read_to_string("/run/pcscd/pcscd.pid")
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    !pid.is_empty() && Path::new(&format!("/proc/{pid}")).exists()
}

fn virtual_card_present() -> Result<bool, String> {
    sigtag::token::card::open_all()
        .map(|cards| !cards.is_empty())
        .map_err(|e| e.to_string())
}

/// Makes sure pcscd runs with the virtual card, starting `pcscd -f` if
/// nobody has, and takes the card for the calling test (tests using the
/// card run one at a time). Panics loudly when that is not possible.
pub fn card_lock() -> MutexGuard<'static, ()> {
    let guard = CARD.lock().unwrap_or_else(|e| e.into_inner());
    let script = setup_script();
    assert!(
        Path::new(DRIVER).exists() && Path::new(READER_CONF).exists(),
        "THE CARD TESTS CANNOT RUN: the ifd-jcecard virtual card driver is not installed \
         ({DRIVER}, {READER_CONF}); run {} as root",
        script.display()
    );
    if !pcscd_running() {
        let state = std::env::temp_dir().join("sigtag-jcecard-state");
        fs::create_dir_all(&state).unwrap();
        let _ = fs::create_dir_all("/run/pcscd");
        let _ = fs::remove_file("/run/pcscd/pcscd.comm");
        let _ = fs::remove_file("/run/pcscd/pcscd.pid");
        // Foreground so it stays our child's business; --auto-exit ends it
        // after a minute without clients.
        let spawned = Command::new("pcscd")
            .args(["--foreground", "--auto-exit"])
            .env("JCECARD_STORAGE_DIR", &state)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if let Err(e) = spawned {
            panic!(
                "THE CARD TESTS CANNOT RUN: pcscd could not be started ({e}); run {} as root",
                script.display()
            );
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match virtual_card_present() {
            Ok(true) => break,
            result if Instant::now() > deadline => panic!(
                "THE CARD TESTS CANNOT RUN: pcscd shows no virtual OpenPGP card ({}); \
                 run {} as root, and restart pcscd if it predates the driver",
                match result {
                    Err(e) => e,
                    _ => "no card".to_string(),
                },
                script.display()
            ),
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    }
    guard
}

/// A card provisioned for a test: its ident and the certificate of the
/// Ed25519 key generated on it.
pub struct Provisioned {
    pub ident: String,
    pub cert: Cert,
}

impl Provisioned {
    pub fn fpr(&self) -> String {
        self.cert.fingerprint().to_hex()
    }

    pub fn armored(&self) -> Vec<u8> {
        self.cert.armored().to_vec().unwrap()
    }

    /// Writes the certificate as `dir/<signer>.asc`.
    pub fn trust_as(&self, dir: &Path, signer: &str) {
        fs::write(dir.join(format!("{signer}.asc")), self.armored()).unwrap();
    }
}

fn pin(p: &str) -> SecretString {
    SecretString::from(p.to_string())
}

/// Factory-resets the (only) card, generates an Ed25519 signing key on it
/// (set through the algorithm attributes), sets the cardholder name, and
/// makes a certificate for the key, self-signed on the card: the card's
/// key is the primary key, as `oct admin generate` makes it.
pub fn provision(name: &str, cardholder: &str, touch: bool) -> Provisioned {
    let (ident, mut card) = sigtag::token::card::open(None).expect("open the virtual card");
    let (material, created) = {
        let mut tx = card.transaction().expect("card transaction");
        tx.factory_reset().expect("factory reset");
        let mut admin = tx.as_admin_card(pin(ADMIN_PIN)).expect("admin PIN");
        admin
            .set_algorithm_attributes(
                KeyType::Signing,
                &AlgorithmAttributes::Ecc(EccAttributes::new(EccType::EdDSA, Curve::Ed25519, None)),
            )
            .expect("set Ed25519 algorithm attributes");
        admin
            .set_cardholder_name(cardholder)
            .expect("set cardholder name");
        if touch {
            // PUT DATA D6 (the signing slot's User Interaction Flag): touch on.
            let mut uif = UserInteractionFlag::try_from(vec![0x00, 0x20]).unwrap();
            uif.set_touch_policy(TouchPolicy::On);
            admin
                .as_transaction()
                .card()
                .set_uif_pso_cds(&uif)
                .expect("set the touch policy");
        }
        admin
            .generate_key(sigtag::token::card::fingerprint_for_card, KeyType::Signing)
            .expect("generate a key on the card")
    };
    let at = UNIX_EPOCH + Duration::from_secs(u64::from(created.get()));
    let public = sigtag::token::card::public_key(&material, at).expect("card public key");
    let mut signer =
        sigtag::token::card::CardSigner::new(card, &ident, public.clone(), pin(USER_PIN))
            .expect("card signer");
    let uid = UserID::from(format!("{name} <{name}@example.org>"));
    let binding = SignatureBuilder::new(SignatureType::PositiveCertification)
        .set_signature_creation_time(at)
        .unwrap()
        .set_key_flags(KeyFlags::empty().set_certification().set_signing())
        .unwrap()
        .set_features(Features::sequoia())
        .unwrap()
        .set_hash_algo(HashAlgorithm::SHA512)
        .set_primary_userid(true)
        .unwrap()
        .sign_userid_binding(&mut signer, public.role_as_primary(), &uid)
        .expect("self-signature made on the card");
    let primary: Packet = public.role_into_primary().into();
    let cert = Cert::from_packets(vec![primary, uid.into(), binding.into()].into_iter())
        .expect("certificate");
    Provisioned { ident, cert }
}

/// Imports a public certificate into a GnuPG home (for git verify-tag).
pub fn gpg_import(home: &Path, cert: &[u8]) {
    let file = home.join("import.asc");
    fs::write(&file, cert).unwrap();
    gpg::import(home, &file);
}

/// The User PIN tries left on the card.
pub fn pin_tries_left() -> u8 {
    let cards = sigtag::token::card::list(None).expect("list cards");
    cards.first().expect("a card").pin_tries
}

/// A policy with one group, humans, and one environment, staging, that
/// needs two of them (or all, when fewer).
pub fn humans_policy(ctx: &Ctx, humans: &[&str]) {
    let list: Vec<String> = humans.iter().map(|h| format!("\"{h}\"")).collect();
    ctx.policy(&format!(
        "[groups]\nhumans = [{}]\n\n[environments.staging]\nrequire = \"{} of humans\"\n",
        list.join(", "),
        humans.len().min(2)
    ));
}

/// A new Ed25519 signing key with the user ID `uid` (gpg allows the same
/// user ID twice with --yes); returns its fingerprint.
pub fn gen_key_with_uid(ctx: &Ctx, uid: &str) -> String {
    let spec = gpg::NewKey {
        again: true,
        ..gpg::NewKey::default()
    };
    gpg::gen_key(&ctx.home, uid, &spec)
}

/// A GnuPG home of its own under the test root, configured for tokens.
pub fn other_gnupg_home(ctx: &Ctx, name: &str) -> PathBuf {
    let home = ctx.root.join(name);
    gpg::create_home(&home);
    configure_gnupg_home(&home);
    home
}

/// `git verify-tag --raw REV` must succeed; returns gpg's status lines.
pub fn git_verify_tag(ctx: &Ctx, rev: &str) -> String {
    let out = ctx.git_output(&ctx.repo, &["verify-tag", "--raw", rev]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "git verify-tag {rev} failed: {err}");
    err
}

/// git verifies `rev` as signed by the key `fpr`.
pub fn assert_signed_by(ctx: &Ctx, rev: &str, fpr: &str) {
    let status = git_verify_tag(ctx, rev);
    assert!(status.contains(&format!("VALIDSIG {fpr}")), "{status}");
}

pub fn path(p: &Path) -> String {
    Ctx::path_str(p)
}
