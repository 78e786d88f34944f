//! `robot-sre console hash-password`: a password on standard input becomes an argon2 PHC
//! string that verifies it, without any configuration.

use std::io::Write;
use std::process::{Command, Stdio};

use argon2::password_hash::{PasswordHash, PasswordVerifier};

fn hash_password(stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_robot-sre"))
        .args(["console", "hash-password"])
        .env_remove("ROBOT_SRE_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("robot-sre runs");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.as_bytes())
        .expect("the password is written");
    drop(input);
    child.wait_with_output().expect("robot-sre ends")
}

#[test]
fn hash_password_prints_a_hash_that_verifies_the_password_read_from_stdin() {
    let output = hash_password("s3cret console password\n");
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8(output.stdout).unwrap();
    let hash = PasswordHash::new(printed.trim()).expect("a PHC string");
    assert_eq!(hash.algorithm.as_str(), "argon2id");
    let argon2 = argon2::Argon2::default();
    assert!(
        argon2
            .verify_password(b"s3cret console password", &hash)
            .is_ok()
    );
    assert!(
        argon2
            .verify_password(b"s3cret console password\n", &hash)
            .is_err()
    );
    assert!(!printed.contains("s3cret"));
}

#[test]
fn hash_password_refuses_an_empty_input() {
    let output = hash_password("");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no password on standard input"), "{stderr}");
}
