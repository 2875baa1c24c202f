/** A Response as plain, structured-cloneable data, for page.evaluate to hand back to Node. */
export interface ResponseInfo {
  status: number
  ok: boolean
  headers: Record<string, string>
  body: string
}

export async function responseInfo(res: Response): Promise<ResponseInfo> {
  const headers: Record<string, string> = {}
  res.headers.forEach((value, name) => {
    headers[name] = value
  })
  return { status: res.status, ok: res.ok, headers, body: await res.text() }
}
