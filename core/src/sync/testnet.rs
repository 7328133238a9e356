//! An in-memory network of sync peers for tests and benchmarks: messages sit in per-link
//! queues until the test delivers them, in order or not, once, twice or never.

use std::collections::VecDeque;

use super::message::PeerId;
use super::peer::{AllowAll, ConnectionId, Input, Output, PeerConfig, Role, SharePolicy, SyncPeer};
use crate::calendar::Timestamp;

/// Which way a message travels on a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the link's client to its server.
    ToServer,
    /// From the link's server to its client.
    ToClient,
}

/// A connection between two peers of a [`MemoryNetwork`].
#[derive(Debug)]
pub struct Link {
    /// The client peer's index.
    pub client: usize,
    /// The server peer's index.
    pub server: usize,
    client_connection: ConnectionId,
    server_connection: ConnectionId,
    to_server: VecDeque<Vec<u8>>,
    to_client: VecDeque<Vec<u8>>,
    up: bool,
}

impl Link {
    /// Whether the link is connected.
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// How many messages wait in one direction.
    pub fn pending(&self, direction: Direction) -> usize {
        match direction {
            Direction::ToServer => self.to_server.len(),
            Direction::ToClient => self.to_client.len(),
        }
    }
}

/// Peers, links between them, and the messages in flight. `P` is the peers' share policy:
/// every peer allows everything unless a test gives them one that vets (a server's).
#[derive(Debug, Default)]
pub struct MemoryNetwork<P = AllowAll> {
    /// The peers, by index.
    pub peers: Vec<SyncPeer<P>>,
    /// The links, by index.
    pub links: Vec<Link>,
    /// Every output the peers produced other than sends and closes, with the peer's index.
    pub events: Vec<(usize, Output)>,
    /// The time given to the peers.
    pub now: Timestamp,
    next_connection: u64,
    /// Bytes delivered so far.
    pub bytes_delivered: usize,
    /// When set, every delivered message is kept in `delivered` (for wire-size studies).
    pub record_deliveries: bool,
    /// The messages delivered while `record_deliveries` was set: link, direction, bytes.
    pub delivered: Vec<(usize, Direction, Vec<u8>)>,
}

impl Default for Timestamp {
    fn default() -> Self {
        Timestamp::from_millis(0)
    }
}

impl MemoryNetwork {
    /// An empty network of peers that allow everything.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<P: SharePolicy + Default> MemoryNetwork<P> {
    /// Adds a peer named `name` with the policy's default; returns its index.
    pub fn add_peer(&mut self, name: &str, role: Role) -> usize {
        self.add_peer_with(name, role, P::default())
    }
}

impl<P: SharePolicy> MemoryNetwork<P> {
    /// Adds a peer named `name` with `policy`; returns its index.
    pub fn add_peer_with(&mut self, name: &str, role: Role, policy: P) -> usize {
        let peer_id =
            PeerId::new(name).unwrap_or_else(|| unreachable!("test peer names are short"));
        self.peers.push(SyncPeer::with_policy(
            PeerConfig::new(peer_id, role),
            policy,
        ));
        self.peers.len() - 1
    }

    /// Adds a link from `client` to `server` and connects it; returns its index.
    pub fn connect(&mut self, client: usize, server: usize) -> usize {
        self.next_connection += 2;
        let link = Link {
            client,
            server,
            client_connection: ConnectionId(self.next_connection),
            server_connection: ConnectionId(self.next_connection + 1),
            to_server: VecDeque::new(),
            to_client: VecDeque::new(),
            up: false,
        };
        self.links.push(link);
        let index = self.links.len() - 1;
        self.reconnect(index);
        index
    }

    /// Brings a link up again (no-op if it is up).
    pub fn reconnect(&mut self, link: usize) {
        if self.links[link].up {
            return;
        }
        self.links[link].up = true;
        let (server, connection) = (self.links[link].server, self.links[link].server_connection);
        self.input(server, Input::Connected { connection });
        let (client, connection) = (self.links[link].client, self.links[link].client_connection);
        self.input(client, Input::Connected { connection });
    }

    /// Takes a link down: its queued messages are lost, both ends are told.
    pub fn disconnect(&mut self, link: usize) {
        let entry = &mut self.links[link];
        if !entry.up {
            return;
        }
        entry.up = false;
        entry.to_server.clear();
        entry.to_client.clear();
        let (client, client_connection) = (entry.client, entry.client_connection);
        let (server, server_connection) = (entry.server, entry.server_connection);
        self.input(
            client,
            Input::Disconnected {
                connection: client_connection,
            },
        );
        self.input(
            server,
            Input::Disconnected {
                connection: server_connection,
            },
        );
    }

    /// Feeds an input to a peer and routes what comes out.
    pub fn input(&mut self, peer: usize, input: Input) {
        let now = self.now;
        let outputs = self.peers[peer].handle(now, input);
        for output in outputs {
            match output {
                Output::Send { connection, bytes } => {
                    if let Some(link) = self.links.iter_mut().find(|link| {
                        link.up
                            && ((link.client == peer && link.client_connection == connection)
                                || (link.server == peer && link.server_connection == connection))
                    }) {
                        if link.client == peer && link.client_connection == connection {
                            link.to_server.push_back(bytes);
                        } else {
                            link.to_client.push_back(bytes);
                        }
                    }
                }
                Output::Close { connection, .. } => self.close(peer, connection),
                // A server closes the connection that sent refused changes, as Lots' does.
                Output::Refused { connection, .. } => {
                    self.events.push((peer, output));
                    self.close(peer, connection);
                }
                other => self.events.push((peer, other)),
            }
        }
    }

    fn close(&mut self, peer: usize, connection: ConnectionId) {
        if let Some(index) = self.links.iter().position(|link| {
            (link.client == peer && link.client_connection == connection)
                || (link.server == peer && link.server_connection == connection)
        }) {
            self.disconnect(index);
        }
    }

    /// Delivers the message at `position` of a link's queue. With `keep`, a copy stays
    /// queued (it will arrive twice). Returns false when there was no such message.
    pub fn deliver(
        &mut self,
        link: usize,
        direction: Direction,
        position: usize,
        keep: bool,
    ) -> bool {
        let entry = &mut self.links[link];
        let queue = match direction {
            Direction::ToServer => &mut entry.to_server,
            Direction::ToClient => &mut entry.to_client,
        };
        let bytes = if keep {
            queue.get(position).cloned()
        } else {
            queue.remove(position)
        };
        let Some(bytes) = bytes else { return false };
        self.bytes_delivered += bytes.len();
        if self.record_deliveries {
            self.delivered.push((link, direction, bytes.clone()));
        }
        let (peer, connection) = match direction {
            Direction::ToServer => (entry.server, entry.server_connection),
            Direction::ToClient => (entry.client, entry.client_connection),
        };
        self.input(peer, Input::Received { connection, bytes });
        true
    }

    /// Drops the message at `position` of a link's queue.
    pub fn drop_message(&mut self, link: usize, direction: Direction, position: usize) {
        let entry = &mut self.links[link];
        match direction {
            Direction::ToServer => entry.to_server.remove(position),
            Direction::ToClient => entry.to_client.remove(position),
        };
    }

    /// Delivers every queued message in order until no link has anything queued.
    /// Returns how many messages were delivered.
    pub fn run_until_quiet(&mut self) -> usize {
        let mut delivered = 0;
        loop {
            let mut progressed = false;
            for link in 0..self.links.len() {
                for direction in [Direction::ToServer, Direction::ToClient] {
                    if self.deliver(link, direction, 0, false) {
                        delivered += 1;
                        progressed = true;
                    }
                }
            }
            if !progressed {
                return delivered;
            }
        }
    }
}
