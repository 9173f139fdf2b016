package dev.replicator.source.pull;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Money is a count of the currency's smallest unit: pull copies it only where both servers write an amount alike.
 * (The servers here have only the C locales, so a pull between two real conventions is not run.)
 */
class MoneyFormatsTest {

    @Test
    void moneyIsCopiedOnlyWhereBothServersWriteItAlike() {
        assertEquals(null, MoneyFormats.compare(new String[] { "$12,345.67", "C" },
                new String[] { "$12,345.67", "C.UTF-8" }));
        String refused = MoneyFormats.compare(new String[] { "12.345,67 €", "de_DE.UTF-8" },
                new String[] { "¥12,346", "ja_JP.UTF-8" });
        assertTrue(refused.contains("'12.345,67 €' (lc_monetary 'de_DE.UTF-8')")
                && refused.contains("'¥12,346' (lc_monetary 'ja_JP.UTF-8')"), refused);
    }
}
