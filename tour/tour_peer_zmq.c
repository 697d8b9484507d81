/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Tour row: ZeroMQ (see tour_peer.h). */
#define PEER_SCHEME "zmq"
#define TOUR_PEER_ROW tour_zmq_across_hosts
#include "tour_peer.h"
