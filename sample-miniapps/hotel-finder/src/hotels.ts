// The travel agency's hotel search, over the network capability: `fetch`
// to the origin of the `agency-origin` setting, which plaza.toml declares.

import * as config from '@plaza/sdk/config';

/** A hotel near the point searched from, as the agency answers it. */
export interface Hotel {
  id: string;
  name: string;
  address: string;
  /** How far from the point searched, in metres. */
  distanceM: number;
  /** The price of a night, in fen. */
  priceFen: bigint;
  /** Rooms left tonight. */
  rooms: number;
}

/** Where to search from. */
export interface Point {
  latitude: number;
  longitude: number;
}

/** Why the search gave no list: what to tell the user. */
export class SearchFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchFailed';
  }
}

interface Answer {
  hotels: { id: string; name: string; address: string; distance_m: number; price_fen: number; rooms: number }[];
}

/** The hotels within 5 km of `at`, nearest first (at most 10). */
export async function near(at: Point): Promise<Hotel[]> {
  const origin = config.get('agency-origin');
  const url = `${origin}/hotels?lat=${at.latitude.toFixed(4)}&lon=${at.longitude.toFixed(4)}&limit=10`;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    // The host refused the request, or the agency is unreachable.
    throw new SearchFailed(`the hotel search is unreachable (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!response.ok) {
    throw new SearchFailed(`the hotel search answered ${response.status}: ${(await response.text()).trim()}`);
  }
  const answer = (await response.json()) as Answer;
  return answer.hotels.map((h) => ({
    id: h.id,
    name: h.name,
    address: h.address,
    distanceM: h.distance_m,
    priceFen: BigInt(h.price_fen),
    rooms: h.rooms,
  }));
}

/** `850 m` or `2.6 km`. */
export function distance(metres: number): string {
  return metres < 1000 ? `${metres} m` : `${(metres / 1000).toFixed(1)} km`;
}
