// A terminal's own reversal (0400, repeated as 0401) of a request the switch forwarded. It is matched
// to the original by terminal (41), the original's STAN and transmission time (from field 90, else
// its own 11 and 7) and amount; the reversal the host gets is the one prepared when the original was
// forwarded (the host's STAN, RRN and field 7, field 90 as the host saw the original). It is answered
// 00 once that reversal is durable and ready in the SAF queue; an unknown original gets RC 25 (unable
// to locate the original). A repeat gets the same answer and never queues a second reversal.
//
// The journal is the only memory of the originals: an answered original's reversal stays there on
// standby for the reversal window, so a terminal's reversal after a restart (even a kill -9) of the
// switch finds it, and the claim is one write that also says whether it was claimed before.
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "eft/switch/message_util.hpp"
#include "eft/switch/pipeline.hpp"

namespace eft::switch_core {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

bool pipeline::terminal_reversible(const transaction* t) noexcept {
  const std::string_view mti = t->request->mti();
  return mti.size() == 4 && (mti[1] == '1' || mti[1] == '2');  // only authorisations and financials
}

awaitable<void> pipeline::terminal_reversal(transaction* t) {
  const iso8583::message& req = *t->request;
  original_ref ref{field_text(req, 41U), field_text(req, 11U), field_text(req, 7U), field_text(req, 4U)};
  // Field 90 (n42): original MTI n4, STAN n6, transmission date and time n10, acquirer n11, forwarder n11.
  if (const std::string f90 = field_text(req, 90U); f90.size() >= 20) {
    ref.terminal_stan = f90.substr(4, 6);
    ref.transmission = f90.substr(10, 10);
  }
  const std::string stan = ref.terminal_stan;
  auto [ec, claim] = co_await journal_->async_claim_original(std::move(ref), use_tuple);
  if (ec) {
    counters_.journal_failures.add();
    const char* rc = ec == journal_errc::busy ? "91" : "96";
    spdlog::error("listener {}: reversal {} not queued: journal: {}; answering {}", t->listener, summary(req),
                  ec.message(), rc);
    answer_locally(t, rc);
    co_return;
  }
  if (claim.status == original_claim_status::unknown) {
    spdlog::info("listener {}: {} matches no forwarded original (stan={}); answering 25", t->listener, summary(req),
                 stan);
    answer_locally(t, "25");
    co_return;
  }
  const bool claimed = claim.status == original_claim_status::claimed;
  answer_locally(t, "00");
  journal_batch b;
  b.records.push_back(make_record(t, journal_event::completed));
  b.records.back().mti = std::string(t->response->mti());
  b.records.back().detail = "terminal reversal of txn " + std::to_string(claim.txn_id) +
                            (claimed ? ": reversal queued" : ": already reversed, nothing queued");
  t->outcome_journaled = true;
  // The claim is durable already: this record need not be waited for.
  if (!journal_->post(std::move(b))) counters_.journal_failures.add();
  if (claimed) {
    counters_.reversals_queued.add();
    spdlog::info("listener {}: {} matched txn {}: reversal queued", t->listener, summary(req), claim.txn_id);
  } else {
    spdlog::info("listener {}: {}: the reversal of txn {} is already queued or done; answering 00", t->listener,
                 summary(req), claim.txn_id);
  }
}

}  // namespace eft::switch_core
