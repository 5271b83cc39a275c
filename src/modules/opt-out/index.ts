/** The publisher opt-out (SPEC §9). */
export { OptOutRequest } from './opt-out-request.entity';
export { OptOutDto } from './opt-out.dto';
export { requestOptOut, confirmOptOut, describeOptOutLink, addressProvesControl, domainOf, LINK_HOURS } from './opt-out';
