package dev.replicator.source.pull;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What one pull did.
 *
 * @param slot         the slot read
 * @param transactions source transactions applied (or found already applied)
 * @param applied      changes written
 * @param stale        changes the target already held (or newer versions of them): read again after a pull that
 *                     committed them but could not confirm them
 * @param superseded   changes overtaken by a newer change of the same row in the same target transaction
 * @param skipped      truncates left alone because {@code replicator.apply-truncate} is off
 * @param confirmedLsn where the slot is confirmed now ({@code 16/B374D848})
 * @param done         the slot held nothing more when the pull stopped
 * @param next         the request to continue with while not done; null when done
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PullReport(String slot, long transactions, long applied, long stale, long superseded,
        long skipped, String confirmedLsn, boolean done, PullRequest next) {
}
