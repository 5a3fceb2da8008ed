//! Who is on the other end of a loopback TCP connection, from the kernel: the uid that owns
//! the client's socket, read from `/proc/net/tcp` (or `tcp6`), where the kernel lists every
//! TCP socket with its owner. The proxy token must have been issued to that uid, so a token
//! copied into another user's hands does not work for them.

use std::net::{IpAddr, SocketAddr};

/// The uid owning the socket whose local address is `peer` and remote address is `local` (the
/// client's end of the connection the proxy accepted), if the kernel lists it.
pub fn uid_of(peer: SocketAddr, local: SocketAddr) -> Option<u32> {
    let file = match peer.ip() {
        IpAddr::V4(_) => "/proc/net/tcp",
        IpAddr::V6(_) => "/proc/net/tcp6",
    };
    let table = std::fs::read_to_string(file).ok()?;
    find(&table, peer, local)
}

/// The kernel's text form of an address: the IP as the 32-bit words of memory order in hex,
/// then `:` and the port in hex.
fn kernel_form(a: SocketAddr) -> String {
    let mut s = String::new();
    match a.ip() {
        IpAddr::V4(ip) => {
            s.push_str(&format!("{:08X}", u32::from_ne_bytes(ip.octets())));
        }
        IpAddr::V6(ip) => {
            for w in ip.octets().chunks(4) {
                s.push_str(&format!(
                    "{:08X}",
                    u32::from_ne_bytes([w[0], w[1], w[2], w[3]])
                ));
            }
        }
    }
    s.push_str(&format!(":{:04X}", a.port()));
    s
}

fn find(table: &str, peer: SocketAddr, local: SocketAddr) -> Option<u32> {
    let want_local = kernel_form(peer);
    let want_remote = kernel_form(local);
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid ...
        if f.len() > 7 && f[1] == want_local && f[2] == want_remote {
            return f[7].parse().ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn the_kernel_names_our_own_uid_for_our_own_connection() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, peer) = l.accept().unwrap();
        let me = rustix::process::geteuid().as_raw();
        assert_eq!(uid_of(peer, s.local_addr().unwrap()), Some(me));
        assert_eq!(peer, c.local_addr().unwrap());
        // Another address pair is not found.
        let other: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert_eq!(uid_of(other, s.local_addr().unwrap()), None);
    }

    #[test]
    fn the_kernel_form_is_memory_order_words() {
        let a: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(kernel_form(a), "0100007F:1F90");
        }
    }
}
