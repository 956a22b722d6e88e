//! Calendar dates of Unix timestamps, in UTC: the signature's credential
//! scope and the emulator's timestamps need them, and std has none.

use std::fmt::Write as _;

/// The UTC date `YYYY-MM-DD` of a Unix timestamp (the credential scope's date).
pub(crate) fn utc_date(timestamp: u64) -> String {
    // Howard Hinnant's days-to-civil algorithm, over days since 1970-01-01.
    let days = i64::try_from(timestamp / 86_400).unwrap_or(i64::MAX);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let mut date = String::with_capacity(10);
    let _ = write!(date, "{year:04}-{month:02}-{day:02}");
    date
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_at_the_edges_of_days_months_and_years() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(86_399), "1970-01-01");
        assert_eq!(utc_date(86_400), "1970-01-02");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(951_868_799), "2000-02-29");
        assert_eq!(utc_date(951_868_800), "2000-03-01");
        assert_eq!(utc_date(1_704_067_199), "2023-12-31");
        assert_eq!(utc_date(1_704_067_200), "2024-01-01");
        assert_eq!(utc_date(4_107_542_400), "2100-03-01");
        assert_eq!(utc_date(4_107_542_399), "2100-02-28");
    }
}
