/**
 * HTTP-date parsing (RFC 9110 §5.6.7): the preferred IMF-fixdate and the two obsolete forms a recipient must accept.
 *
 *   IMF-fixdate  = day-name "," SP 2DIGIT SP month SP 4DIGIT SP time-of-day SP "GMT"   Sun, 06 Nov 1994 08:49:37 GMT
 *   rfc850-date  = day-name-l "," SP 2DIGIT "-" month "-" 2DIGIT SP time-of-day SP "GMT" Sunday, 06-Nov-94 08:49:37 GMT
 *   asctime-date = day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time-of-day SP 4DIGIT  Sun Nov  6 08:49:37 1994
 *
 * Names are case-sensitive (%s in the ABNF). The day name is not checked against the date, as RFC 9110 lets a
 * recipient be robust; anything else that does not match (Date.parse would read "0", "Nov 6 1994" or ISO dates) is
 * invalid.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)'
const DAY_LONG = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)'
const MONTH = `(${MONTHS.join('|')})`
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})'
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`)
const RFC_850 = new RegExp(`^${DAY_LONG}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`)
const ASCTIME = new RegExp(`^${DAY} ${MONTH} (\\d{2}| \\d) ${TIME} (\\d{4})$`)
const FIFTY_YEARS_MS = 50 * 365.2425 * 86_400_000

/**
 * An HTTP-date as epoch ms, or undefined when absent or not an HTTP-date. `now` places an RFC 850 two-digit year:
 * one that would be more than 50 years in the future is the most recent past year with those digits (§5.6.7).
 *
 * @example
 * parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT') // 784111777000
 * parseHttpDate('0') // undefined
 */
export function parseHttpDate(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined
  const text = value.trim()
  let m = IMF_FIXDATE.exec(text)
  if (m !== null) return toMs(Number(m[3]), m[2] as string, Number(m[1]), m[4] as string, m[5] as string, m[6] as string)
  m = ASCTIME.exec(text)
  if (m !== null) return toMs(Number(m[6]), m[1] as string, Number((m[2] as string).trim()), m[3] as string, m[4] as string, m[5] as string)
  m = RFC_850.exec(text)
  if (m === null) return undefined
  // The latest year ending in these two digits that is not more than 50 years in the future (§5.6.7).
  const [, dd, month, yy, hh, mm, ss] = m as unknown as [string, string, string, string, string, string, string]
  const year = new Date(now).getUTCFullYear()
  const base = year - (year % 100) + Number(yy)
  for (const candidate of [base + 100, base, base - 100]) {
    const ms = toMs(candidate, month, Number(dd), hh, mm, ss)
    // 29-Feb exists only in some of the candidate years.
    if (ms !== undefined && ms - now <= FIFTY_YEARS_MS) return ms
  }
  return undefined
}

function toMs(year: number, month: string, day: number, hh: string, mm: string, ss: string): number | undefined {
  const monthIndex = MONTHS.indexOf(month)
  const hour = Number(hh)
  const minute = Number(mm)
  // time-of-day allows 60 seconds (a leap second); Date has none, so it is read as the last second of the minute.
  const second = Math.min(Number(ss), 59)
  if (hour > 23 || minute > 59 || Number(ss) > 60 || day < 1) return undefined
  const ms = Date.UTC(year, monthIndex, day, hour, minute, second)
  // Date.UTC rolls 31 Feb over into March: a day past the month's end is invalid.
  if (new Date(ms).getUTCDate() !== day) return undefined
  // Date.UTC maps years 0-99 to 1900-1999; HTTP years are 4 digits here, so only exact years are used.
  if (year < 100) return undefined
  return ms
}
