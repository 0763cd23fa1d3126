#pragma once
/// Pipeline stages that use the HSM. Each returns a stage_fn to register with pipeline::add_stage at
/// the point its comment names.

#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "eft/crypto/async_hsm.hpp"
#include "eft/crypto/pin_block.hpp"
#include "eft/switch/pipeline.hpp"

namespace eft::switch_core {

/// The PIN block format of a config name ("iso0", "iso1", "iso3", "iso4"); iso0 for anything else.
crypto::pin_block_format pin_format_of(std::string_view name) noexcept;

/// PIN translation, at stage_point::routed: when the host request carries field 52, the PIN block is
/// translated inside the HSM from the listener's terminal PIN key (pin_key) or DUKPT key (pin_bdk
/// with the KSN the KSN stage took from field 53) and format to the route's zone PIN key (and
/// format), with the PAN of the request, and replaces field 52. A DUKPT PIN block without KSN is
/// answered with RC 30; a PIN block without keys on both sides, or a translation the HSM refuses,
/// with RC 96 (logged without PIN, block or key). The HSM call runs through `hsm` (inline or on its pool) and completes
/// on the session's thread. `hsm` must outlive the pipeline.
stage_fn make_pin_translation_stage(crypto::async_hsm& hsm);

/// Response code of a PIN that does not verify (ISO 8583:1987 "incorrect PIN").
inline constexpr std::string_view wrong_pin_rc = "55";

/// The stand-in's own PIN check, at stage_point::stand_in, for routes whose stand_in has pin_verify:
/// the terminal's PIN block (field 52 of the request, under the listener's pin_key, or pin_bdk and
/// the KSN) is verified inside the HSM against the PIN verification data of the card's track 2
/// (field 35; pin_verification_data_of) with the PAN of the request and the route's pvk: Visa PVV
/// (hsm::verify_pin_pvv) or IBM 3624 offset (hsm::verify_pin_ibm3624, validation data from the
/// route's pattern and the PAN). A PIN that does not verify is answered with wrong_pin_rc (no
/// advice, no approval); a request without PIN block when pin_verify is required, or without usable
/// track 2 data, with the stand-in's rc; a listener without PIN key or an HSM failure with 96. No
/// PIN try counter is kept. Nothing about the PIN, block, track or PVV/offset is logged.
stage_fn make_stand_in_pin_stage(crypto::async_hsm& hsm);

/// Response code of a missing or wrong MAC (ISO 8583:1987 "security violation").
inline constexpr std::string_view mac_failure_rc = "63";

/// KSN sizes of the DUKPT listeners, by listener name: 10 bytes (TDES BDK) or 12 (AES BDK).
using ksn_sizes = std::map<std::string, std::size_t, std::less<>>;

/// The KSN, first at stage_point::received for listeners with pin_bdk or mac_bdk: takes the DUKPT
/// key serial number from field 53 of the request into transaction::ksn and removes field 53 (the
/// KSN is for the terminal's keys; the host sees the zone key only). Field 53 holds the KSN in its
/// first N bytes (N = 10 for a TDES BDK, 12 for an AES BDK) when the field is binary (class b), or
/// as 2N hex digits at its start otherwise; the rest of the field (padding) is ignored. A field 53
/// that is too short or not hex is answered with RC 30; an absent one leaves the KSN empty.
stage_fn make_ksn_stage(const std::shared_ptr<const ksn_sizes>& sizes);

/// MAC verification, at stage_point::received, for listeners with mac_key or mac_bdk. The MAC field
/// is 128 when the request has it, else 64; it must be the last field of the message. The MAC input
/// is the request exactly as received, from the first byte of the MTI up to the first byte of the
/// MAC field (the bitmap with the MAC bit set included; framing, TPDU and the MAC excluded). Static
/// key: ISO 9797-1 algorithm 3 (retail MAC), padding method 1, 8 bytes. DUKPT: the request MAC key
/// of the BDK and KSN; ISO 9797-1 algorithm 3 for TDES DUKPT (X9.24-1 MAC variant), AES-CMAC for AES
/// DUKPT (X9.24-3 MAC generation key), 8 bytes. A missing or wrong MAC is answered with
/// mac_failure_rc and counted (switch_counters::mac_failures). The MAC field is then removed from
/// the request, so it never reaches the host. `counters` and `hsm` outlive the pipeline.
stage_fn make_mac_verify_stage(crypto::async_hsm& hsm, switch_counters& counters);

/// MAC generation, at stage_point::answered (last), for listeners with mac_key or mac_bdk: removes
/// any MAC from the answer, puts the MAC field (128 when the answer has a field above 64, else 64)
/// and sets it to the MAC of the answer packed in the listener's dialect, by the rule of
/// make_mac_verify_stage (DUKPT: the response MAC key of the KSN; no KSN: no MAC). When the HSM
/// fails, the answer goes without MAC (the terminal refuses it) and the failure is logged.
stage_fn make_mac_generate_stage(crypto::async_hsm& hsm);

/// The issuer's check of chip cryptograms, at stage_point::routed, for routes with `issuer:`: when
/// the request has field 55, it is checked against the scheme profile of its cryptogram version
/// (emv::check_request, emv::check_card_data) and its ARQC verified in the HSM with the route's
/// issuer master key. A field 55 that fails the checks is answered with RC 30; an ARQC that does
/// not verify with the route's arqc_failure_rc (counted in switch_counters::arqc_failures); an HSM
/// failure with 96.
stage_fn make_arqc_stage(crypto::async_hsm& hsm, switch_counters& counters);

/// The issuer's answer, at stage_point::answered (before MAC generation), for routes with `issuer:`
/// and requests with field 55 the host answered: the ARPC for the host's response code (method 1:
/// ARC = the two RC characters; method 2: the Visa CSU, approved when RC 00) is put in tag 91 of the
/// answer's field 55, with the host's issuer scripts (71, 72) kept. On an HSM failure the answer goes
/// without 91 (the card then declines offline) and the failure is logged.
stage_fn make_arpc_stage(crypto::async_hsm& hsm);

/// Checks every key the config names against the HSM: listener pin_key and route pin_key must be PIN
/// keys (TR-31 usage P0), pin_bdk and mac_bdk BDKs (B0), mac_key an ISO 9797-1 algorithm 3 MAC key
/// (M3), an issuer imk an EMV application cryptogram master key (E0), a stand-in pin_verify pvk a PIN
/// verification key (V2 for visa_pvv, V1 for ibm3624). Throws std::runtime_error
/// naming the config file and line ("switch.yaml:12: mac_key 'tak.pos' is a key of usage P0, not a
/// MAC key (M3)"); `hsm` may be null when the config names no key. Returns the KSN size of each
/// DUKPT listener (10 bytes for a TDES BDK, 12 for an AES one).
ksn_sizes check_config_keys(const config::switch_config& cfg, crypto::hsm* hsm);

/// Adds the HSM stages to a pipeline in their order: KSN and MAC verification at received; PIN
/// translation and the ARQC check at routed; the ARPC and MAC generation at answered; the stand-in's
/// PIN verification at stand_in.
void add_hsm_stages(pipeline& p, crypto::async_hsm& hsm, switch_counters& counters, ksn_sizes sizes);

}  // namespace eft::switch_core
